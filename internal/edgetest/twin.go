package edgetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	mqtt "github.com/mochi-mqtt/server/v2"
)

type twinFault struct{ status, n int }

type twinState struct {
	desired, reported               map[string]any
	desiredVersion, reportedVersion int64
	patches                         [][]byte
	gets                            int
	getFault, patchFault            twinFault
}

func newTwinState() twinState {
	return twinState{desired: map[string]any{}, reported: map[string]any{}, desiredVersion: 1, reportedVersion: 1}
}

// take consumes one injected failure, returning its status or 0.
func (f *twinFault) take() int {
	if f.n <= 0 {
		return 0
	}
	f.n--
	return f.status
}

// FailTwinGets answers the next n twin GETs with status (e.g. 429, 500).
func (b *Broker) FailTwinGets(status, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.twin.getFault = twinFault{status, n}
}

// FailReportedPatches answers the next n reported PATCHes with status (400, 429, 500).
// Failed patches are not applied and not recorded.
func (b *Broker) FailReportedPatches(status, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.twin.patchFault = twinFault{status, n}
}

func (b *Broker) onTwinGet(srv *mqtt.Server, cl *mqtt.Client, topic string) error {
	rid := ridOf(topic)
	if rid == "" {
		return errors.New("twin GET without $rid")
	}
	if cl.ID != b.ClientID() {
		return b.publish(srv, cl.ID, "$iothub/twin/res/404/?$rid="+rid, mustJSON(map[string]string{"message": "edgetest: only " + b.ClientID() + " has a twin"}))
	}
	b.mu.Lock()
	b.twin.gets++
	status := b.twin.getFault.take()
	var body []byte
	if status == 0 {
		status = 200
		body = mustJSON(map[string]any{
			"desired":  withVersion(b.twin.desired, b.twin.desiredVersion),
			"reported": withVersion(b.twin.reported, b.twin.reportedVersion),
		})
	} else {
		body = mustJSON(map[string]any{"message": fmt.Sprintf("edgetest: injected status %d", status)})
	}
	b.notifyLocked()
	b.mu.Unlock()
	return b.publish(srv, cl.ID, "$iothub/twin/res/"+strconv.Itoa(status)+"/?$rid="+rid, body)
}

func (b *Broker) onReportedPatch(srv *mqtt.Server, cl *mqtt.Client, topic string, payload []byte) error {
	rid := ridOf(topic)
	if rid == "" {
		return errors.New("reported PATCH without $rid")
	}
	if cl.ID != b.ClientID() {
		return b.publish(srv, cl.ID, "$iothub/twin/res/404/?$rid="+rid, mustJSON(map[string]string{"message": "edgetest: only " + b.ClientID() + " has a twin"}))
	}
	var patch map[string]any
	b.mu.Lock()
	status := b.twin.patchFault.take()
	var body []byte
	switch {
	case status != 0:
		body = mustJSON(map[string]any{"message": fmt.Sprintf("edgetest: injected status %d", status)})
	case json.Unmarshal(payload, &patch) != nil || patch == nil:
		status, body = 400, mustJSON(map[string]any{"message": "reported patch must be a JSON object"})
	default:
		status = 204
		mergePatch(b.twin.reported, patch)
		b.twin.reportedVersion++
		b.twin.patches = append(b.twin.patches, append([]byte(nil), payload...))
	}
	b.notifyLocked()
	b.mu.Unlock()
	return b.publish(srv, cl.ID, "$iothub/twin/res/"+strconv.Itoa(status)+"/?$rid="+rid, body)
}

// SetDesired replaces the desired document without publishing anything.
// A numeric "$version" in doc sets the desired version.
func (b *Broker) SetDesired(doc map[string]any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := deepCopy(doc)
	if v, ok := d["$version"].(float64); ok {
		b.twin.desiredVersion = int64(v)
	}
	delete(d, "$version")
	b.twin.desired = d
}

// PushDesired bumps the desired $version by one, merges patch (null
// deletes) and publishes it with "$version" to the connected subscribers
// of $iothub/twin/PATCH/properties/desired/# (nothing is queued for
// disconnected clients). It returns the new version.
func (b *Broker) PushDesired(patch map[string]any) (int64, error) {
	b.mu.Lock()
	v := b.twin.desiredVersion + 1
	b.mu.Unlock()
	return v, b.PushDesiredWithVersion(patch, v)
}

// PushDesiredWithVersion is PushDesired with an explicit version, e.g.
// current+2 to create a gap. The broker being stopped is not an error: the
// patch is applied and, like on edgeHub, lost for the module.
func (b *Broker) PushDesiredWithVersion(patch map[string]any, version int64) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	var norm map[string]any
	if err := json.Unmarshal(raw, &norm); err != nil || norm == nil {
		return errors.New("edgetest: desired patch must be a JSON object")
	}
	b.mu.Lock()
	mergePatch(b.twin.desired, norm)
	b.twin.desiredVersion = version
	body := mustJSON(withVersion(norm, version))
	b.notifyLocked()
	b.mu.Unlock()
	srv := b.server()
	if srv == nil {
		return nil
	}
	return b.publish(srv, "", "$iothub/twin/PATCH/properties/desired/?$version="+strconv.FormatInt(version, 10), body)
}

// Desired returns a copy of the desired document and its $version.
func (b *Broker) Desired() (map[string]any, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return deepCopy(b.twin.desired), b.twin.desiredVersion
}

// Reported returns a copy of the merged reported document (without $version).
func (b *Broker) Reported() map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return deepCopy(b.twin.reported)
}

// ReportedVersion is the reported $version (1 + applied patches).
func (b *Broker) ReportedVersion() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.twin.reportedVersion
}

// ReportedPatches returns the raw bodies of applied reported patches.
func (b *Broker) ReportedPatches() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([][]byte, len(b.twin.patches))
	for i, p := range b.twin.patches {
		out[i] = append([]byte(nil), p...)
	}
	return out
}

// WaitReportedPatches waits until at least n reported patches were applied.
func (b *Broker) WaitReportedPatches(ctx context.Context, n int) error {
	return b.waitFor(ctx, func() bool { return len(b.twin.patches) >= n })
}

// TwinGets counts twin GET requests (including failed ones).
func (b *Broker) TwinGets() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.twin.gets
}

// WaitTwinGets waits until at least n twin GETs were received.
func (b *Broker) WaitTwinGets(ctx context.Context, n int) error {
	return b.waitFor(ctx, func() bool { return b.twin.gets >= n })
}

// mergePatch applies a JSON merge patch: null deletes, objects merge
// recursively, anything else replaces. "$version" keys are ignored.
func mergePatch(dst, patch map[string]any) {
	for k, v := range patch {
		if k == "$version" {
			continue
		}
		if v == nil {
			delete(dst, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
			}
			mergePatch(dm, pm)
			dst[k] = dm
			continue
		}
		dst[k] = deepCopyValue(v)
	}
}

func withVersion(m map[string]any, v int64) map[string]any {
	out := deepCopy(m)
	out["$version"] = v
	return out
}

func deepCopy(m map[string]any) map[string]any {
	out, _ := deepCopyValue(m).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// deepCopyValue normalizes through JSON, so numbers become float64.
func deepCopyValue(v any) any {
	var out any
	if err := json.Unmarshal(mustJSON(v), &out); err != nil {
		return nil
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("edgetest: marshal: %v", err))
	}
	return b
}
