package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Reported returns the reported-properties document of r: every key of
// both objects with its effective value, in the form the desired side
// takes ({"value": …} in ObjectName, plain in ModuleObjectName), with
// canonical text ("High", "PT7M"). Fed back to ApplyFull it gives the same
// Config. Errors and status belong elsewhere; see ReportedErrors.
func Reported(r Result) map[string]any {
	c := r.Config
	return document(func(k key) any { return k.get(&c) })
}

// document builds the two objects from one value per key.
func document(value func(key) any) map[string]any {
	doc := make(map[string]any, len(objects))
	for _, o := range objects {
		doc[o] = map[string]any{}
	}
	for _, k := range registry {
		v := jsonValue(value(k))
		if k.object == ObjectName {
			v = map[string]any{"value": v}
		}
		doc[k.object].(map[string]any)[k.name] = v
	}
	return doc
}

// jsonValue is the canonical JSON form of a registry value.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return FormatDuration(x)
	case event.Priority:
		return x.String()
	}
	return v
}

// ReportedErrors renders errors for a reported property, with the field
// names of the ConfigurationError payload. It never returns nil, so an
// empty list is reported as [] rather than null (which would delete it).
func ReportedErrors(errs []KeyError) []map[string]string {
	out := make([]map[string]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, map[string]string{
			"ConfigurationName": e.Key,
			"ErrorType":         string(e.Type),
			"UsedConfiguration": e.Used,
			"Message":           e.Message,
		})
	}
	return out
}

// MarkdownReference renders every key as Markdown tables, one per object,
// for the README.
func MarkdownReference() string {
	var b strings.Builder
	for i, o := range objects {
		if i > 0 {
			b.WriteString("\n")
		}
		if o == ObjectName {
			fmt.Fprintf(&b, "Desired object `%s` (each value wrapped as `{\"value\": …}`):\n\n", o)
		} else {
			fmt.Fprintf(&b, "Desired object `%s` (plain values):\n\n", o)
		}
		b.WriteString("| Key | Type | Default | Allowed | Description |\n|---|---|---|---|---|\n")
		for _, k := range registry {
			if k.object != o {
				continue
			}
			def := formatValue(k.def)
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", k.name, k.typeName(), def, k.allowed(), k.doc)
		}
	}
	return b.String()
}

func (k key) typeName() string {
	switch k.kind {
	case kindDuration:
		return "ISO 8601 duration"
	case kindInt:
		return "integer"
	case kindBool:
		return "boolean"
	case kindPriority:
		return "priority"
	}
	return "string"
}

// allowed describes the values a key accepts.
func (k key) allowed() string {
	switch {
	case k.kind == kindPriority:
		return "High, Low, Off (any case)"
	case k.kind == kindBool:
		return "true, false"
	case k.enum != nil:
		return strings.Join(k.enum, ", ") + " (any case)"
	case k.rule != "":
		return strings.ReplaceAll(k.rule, "|", `\|`)
	case k.kind == kindString:
		return "any"
	}
	s := "≥ " + formatValue(k.boundValue(k.min))
	if k.max != 0 {
		s += ", ≤ " + formatValue(k.boundValue(k.max))
	} else if k.kind == kindDuration {
		s += ", ≤ " + FormatDuration(MaxDuration)
	}
	return s + "; clamped"
}
