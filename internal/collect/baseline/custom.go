package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// maxCustomBytes bounds the custom checks file.
const maxCustomBytes = 1 << 20

// Twin keys of the custom checks (internal/config).
const (
	keyEnabled = "baselineCustomChecksEnabled"
	keyPath    = "baselineCustomChecksFilePath"
	keyHash    = "baselineCustomChecksFileHash"
)

// customProblem is why the custom checks were not used: the twin key to
// blame, the ConfigurationError type, a metric reason and the message.
type customProblem struct {
	key, reason string
	errType     config.ErrorType
	msg         string
}

// loadCustom reads, verifies and parses the custom checks the twin names.
// The file is read from the host root once, hashed and parsed from the
// same bytes, so what was verified is what runs. No checks and no problem
// when custom checks are off.
func loadCustom(root hostfs.Root, cfg config.Config) ([]Check, *customProblem) {
	if !cfg.BaselineCustomChecksEnabled {
		return nil, nil
	}
	if cfg.BaselineCustomChecksFilePath == "" || cfg.BaselineCustomChecksFileHash == "" {
		return nil, &customProblem{key: keyEnabled, reason: "config", errType: config.Conflict,
			msg: keyEnabled + " is true but " + keyPath + " or " + keyHash + " is empty"}
	}
	p := cfg.BaselineCustomChecksFilePath
	b, err := readCustom(root, p)
	if err != nil {
		return nil, &customProblem{key: keyPath, reason: "read", errType: config.TypeMismatch,
			msg: "custom baseline checks file: " + err.Error()}
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, cfg.BaselineCustomChecksFileHash) {
		return nil, &customProblem{key: keyHash, reason: "hash", errType: config.Conflict,
			msg: fmt.Sprintf("custom baseline checks file %s has SHA-256 %s, the twin expects %s; not used", p, got, strings.ToLower(cfg.BaselineCustomChecksFileHash))}
	}
	checks, err := parseChecks(b)
	if err != nil {
		return nil, &customProblem{key: keyPath, reason: "parse", errType: config.TypeMismatch,
			msg: fmt.Sprintf("custom baseline checks file %s: %v", p, err)}
	}
	return checks, nil
}

func readCustom(root hostfs.Root, p string) ([]byte, error) {
	st, err := statInRoot(root, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist on the host", p)
		}
		return nil, err
	}
	if !st.regular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	b, err := root.ReadFile(maxCustomBytes, p)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// reportCustom emits a ConfigurationError for a custom-checks problem,
// once until the problem changes or goes away: every snapshot would
// otherwise repeat it. The log line carries it too.
func (c *Collector) reportCustom(p *customProblem, now time.Time, emit func(event.Event)) {
	if p == nil {
		c.lastCustom = ""
		return
	}
	if p.msg == c.lastCustom {
		return
	}
	c.lastCustom = p.msg
	c.log.WithField("key", p.key).Warn(p.msg)
	emit(event.New(event.NameConfigurationError, now, config.KeyError{
		Key: p.key, Type: p.errType, Used: "built-in checks only", Message: p.msg,
	}.Payload()))
}
