package login

// index finds the entries an attempt may match without scanning every
// held and remembered one: matches needs a pid or a user in common, so
// the candidates are those with the same pid, plus, by user, the entries
// whose pid cannot decide (none, or a helper's). A storm of failed logins
// from many connections then costs one lookup per record, not thousands.
type index struct {
	byPID     map[int64]set
	byUser    map[string]set // every entry with a user
	undecided map[string]set // entries with a user and no definite pid
}

// set is the entries filed under one key; a set, not a slice, so that
// unfiling one of thousands (a storm against root) costs nothing.
type set map[*entry]struct{}

// key is where an entry is filed, kept to unfile it after its attempt
// changed.
type key struct {
	pid       int64
	user      string
	undecided bool
}

// userKey files user names by their first 32 bytes: utmp truncates them.
func userKey(u string) string {
	if len(u) > 32 {
		return u[:32]
	}
	return u
}

func definitePID(a *attempt) bool { return a.PID != 0 && !a.LoosePID }

func keyOf(a *attempt) key {
	return key{pid: a.PID, user: userKey(a.User), undecided: !definitePID(a)}
}

func (x *index) put(e *entry) {
	if x.byPID == nil {
		x.byPID, x.byUser, x.undecided = map[int64]set{}, map[string]set{}, map[string]set{}
	}
	e.key = keyOf(&e.a)
	if e.key.pid != 0 {
		file(x.byPID, e.key.pid, e)
	}
	if e.key.user != "" {
		file(x.byUser, e.key.user, e)
		if e.key.undecided {
			file(x.undecided, e.key.user, e)
		}
	}
}

// refile files e again if absorbing a record changed its keys.
func (x *index) refile(e *entry) {
	if keyOf(&e.a) != e.key {
		x.remove(e)
		x.put(e)
	}
}

func file[K comparable](m map[K]set, k K, e *entry) {
	s := m[k]
	if s == nil {
		s = set{}
		m[k] = s
	}
	s[e] = struct{}{}
}

func (x *index) remove(e *entry) {
	if e.key.pid != 0 {
		unfile(x.byPID, e.key.pid, e)
	}
	if e.key.user != "" {
		unfile(x.byUser, e.key.user, e)
		if e.key.undecided {
			unfile(x.undecided, e.key.user, e)
		}
	}
}

func unfile[K comparable](m map[K]set, k K, e *entry) {
	delete(m[k], e)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

// candidates calls visit for each entry a may match, in no order; an
// entry may come twice.
func (x *index) candidates(a *attempt, visit func(*entry)) {
	if a.PID != 0 {
		for e := range x.byPID[a.PID] {
			visit(e)
		}
	}
	u := userKey(a.User)
	if u == "" {
		return
	}
	list := x.byUser[u]
	if definitePID(a) {
		list = x.undecided[u]
	}
	for e := range list {
		visit(e)
	}
}
