package config

import (
	"fmt"
	"strconv"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// ErrorType is the ErrorType of a ConfigurationError event.
type ErrorType string

// The error types the ConfigurationError schema allows.
const (
	// TypeMismatch: the value has the wrong JSON type, is not wrapped as
	// {"value": …}, or cannot be parsed; the last good value stays.
	TypeMismatch ErrorType = "TypeMismatch"
	// NotOptimal: the value was clamped to its range, or works badly.
	NotOptimal ErrorType = "NotOptimal"
	// Conflict: two keys contradict each other; one was adjusted.
	Conflict ErrorType = "Conflict"
)

// KeyError is one problem with one key. Key is the key's name (or an
// object's name when the object itself is wrong), Used the value now in
// effect as text.
type KeyError struct {
	Key     string
	Type    ErrorType
	Used    string
	Message string
}

func (e KeyError) Error() string {
	return "config: " + e.Key + ": " + string(e.Type) + ": " + e.Message
}

// Payload returns the ConfigurationError payload item for e.
func (e KeyError) Payload() event.ConfigurationError {
	return event.ConfigurationError{
		ConfigurationName: e.Key,
		ErrorType:         string(e.Type),
		UsedConfiguration: e.Used,
		Message:           e.Message,
	}
}

func (k key) mismatch(err error) *KeyError {
	return &KeyError{Key: k.name, Type: TypeMismatch,
		Message: fmt.Sprintf("Couldn't parse the following configuration: %s: %v", k.name, err)}
}

// crossCheck applies the rules between keys, with the C# agent's exact
// messages. Unlike the agents, which only reported, it also fixes the
// conflict so that the module can work: a message larger than the cache
// could never be sent, and high-priority events should not wait longer
// than low-priority ones.
func crossCheck(c *Config) []KeyError {
	var errs []KeyError
	if c.MaxMessageSizeInBytes%messageSizeStep != 0 {
		errs = append(errs, KeyError{Key: "maxMessageSizeInBytes", Type: NotOptimal,
			Used: strconv.FormatInt(c.MaxMessageSizeInBytes, 10), Message: "Message size should be multiple of 4096"})
	}
	if c.MaxMessageSizeInBytes > c.MaxLocalCacheSizeInBytes {
		// The cache is a memory budget, so it wins; both are >= 8192.
		c.MaxMessageSizeInBytes = c.MaxLocalCacheSizeInBytes / messageSizeStep * messageSizeStep
		errs = append(errs, KeyError{Key: "maxLocalCacheSizeInBytes", Type: Conflict,
			Used: strconv.FormatInt(c.MaxLocalCacheSizeInBytes, 10), Message: "MaxLocalCacheSize is smaller than MaxMessageSize"})
	}
	if c.HighPriorityMessageFrequency > c.LowPriorityMessageFrequency {
		c.HighPriorityMessageFrequency = c.LowPriorityMessageFrequency
		errs = append(errs, KeyError{Key: "highPriorityMessageFrequency", Type: Conflict,
			Used: FormatDuration(c.HighPriorityMessageFrequency), Message: "High priority interval is longer than low priority interval"})
	}
	return errs
}
