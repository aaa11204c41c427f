package config

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"PT7M", 7 * time.Minute},
		{"PT5H", 5 * time.Hour},
		{"PT13H", 13 * time.Hour},
		{"PT0S", 0},
		{"P0D", 0},
		{"PT1.5S", 1500 * time.Millisecond},
		{"PT0.000000001S", 1},
		{"PT0.0000000019S", 1}, // below a nanosecond: truncated
		{"PT1.5H", 90 * time.Minute},
		{"PT1H30M", 90 * time.Minute},
		{"P1D", 24 * time.Hour},
		{"P1W", 7 * 24 * time.Hour},
		{"P1M", 30 * 24 * time.Hour},
		{"P1Y", 365 * 24 * time.Hour},
		{"P0.5Y", 365 * 12 * time.Hour},
		{"P1Y2M3W4DT5H6M7.8S", year + 2*month + 3*week + 4*day + 5*time.Hour + 6*time.Minute + 7800*time.Millisecond},
		{"P1DT1S", day + time.Second},
		{"PT36H", 36 * time.Hour},
		{"PT007M", 7 * time.Minute},
		{"PT1.50S", 1500 * time.Millisecond},
		{"P100Y", MaxDuration},
		{"P36500D", MaxDuration},
		{"P99Y364DT23H59M59.999999999S", MaxDuration - 1},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDurationRejects(t *testing.T) {
	tooLong := []string{"P101Y", "P100YT1S", "P100Y0.1D", "P99999999999999999999999D", "PT9223372036854775807S", "P36500DT0.000000001S"}
	for _, in := range tooLong {
		if _, err := ParseDuration(in); !errors.Is(err, errTooLong) {
			t.Errorf("ParseDuration(%q) error = %v; want too long", in, err)
		}
	}
	bad := []string{
		"", "P", "PT", "T1H", "1H", "p1d", "pt1h", "PT1h", "-PT1H", "+PT1H", "P-1D", "PT-1S",
		"P1DT", "P1H", "PT1D", "PT1Y", "PT1W", "P1S", // designator on the wrong side of T
		"PT1M1H", "P1D1Y", "PT1S1S", "P1M1M", // out of order or repeated
		"PT1.5H30M", "P0.5DT1H", "PT1.5M2S", // fraction not on the last part
		"PT.5S", "PT1.S", "PT1..5S", "PT1.2.3S", "PT1,5S", "PT1e3S", "PTS", "PT1", "P1", "P1DT1",
		"PT 1S", " PT1S", "PT1S ", "PT1S\n", "PTT1S", "P1TD", "07:00:00", "PT١S", "PT1Ｓ",
	}
	for _, in := range bad {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v; want an error", in, d)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"},
		{7 * time.Minute, "PT7M"},
		{time.Hour, "PT1H"},
		{5 * time.Hour, "PT5H"},
		{day, "P1D"},
		{week, "P7D"},
		{1500 * time.Millisecond, "PT1.5S"},
		{time.Nanosecond, "PT0.000000001S"},
		{day + time.Hour + time.Minute + time.Second, "P1DT1H1M1S"},
		{90 * time.Minute, "PT1H30M"},
		{day + time.Second, "P1DT1S"},
		{MaxDuration, "P36500D"},
		{-time.Second, "-PT1S"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
	// The extremes must not overflow.
	for _, d := range []time.Duration{1<<63 - 1, -1 << 63} {
		if s := FormatDuration(d); s == "" {
			t.Errorf("FormatDuration(%d) is empty", d)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT7M", "P1Y2M3W4DT5H6M7.8S", "PT1.5S", "P100Y", "PT", "P0.000000000000000000001Y", "PT99999999999999999999S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 || d > MaxDuration {
			t.Fatalf("ParseDuration(%q) = %v, outside [0, MaxDuration]", s, d)
		}
		canon := FormatDuration(d)
		back, err := ParseDuration(canon)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", d, canon, back, err)
		}
	})
}
