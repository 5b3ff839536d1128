package configdoc

import (
	"encoding/json"
	"fmt"
)

// SchemaID names the schema; editors resolve $schema comments by path or URL, not by it.
const SchemaID = "https://github.com/gitops-remediation/terraform-provider-remediation/docs/remediator-config.schema.json"

// durationPattern is what model.ParseDuration (runbooks.ParseDuration) accepts.
const durationPattern = `^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$`

// Schema renders a JSON Schema (draft 2020-12) of the file: every object closed
// (the loader is strict), each key with its description, type, default and values.
func Schema(fields []*Field) ([]byte, error) {
	root := objectSchema(fields)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "remediator configuration"
	root["description"] = "The remediator's configuration file (docs/remediator-config.md). Generated from remediator/config: do not edit."
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return append(out, '\n'), nil
}

func objectSchema(fields []*Field) map[string]any {
	props := map[string]any{}
	var req []string
	for _, f := range fields {
		props[f.Key] = fieldSchema(f)
		if needed(f) {
			req = append(req, f.Key)
		}
	}
	s := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(req) > 0 {
		s["required"] = req
	}
	return s
}

func fieldSchema(f *Field) map[string]any {
	var s map[string]any
	switch f.Kind {
	case KindObject:
		s = objectSchema(f.Fields)
	case KindObjects:
		s = map[string]any{"type": "array", "items": objectSchema(f.Fields)}
	case KindDuration:
		s = map[string]any{"type": "string", "pattern": durationPattern}
	case KindStrings:
		items := map[string]any{"type": "string"}
		if len(f.Enum) > 0 {
			items["enum"] = f.Enum
		}
		s = map[string]any{"type": "array", "items": items}
	case KindStringLists:
		s = map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}
	default:
		s = map[string]any{"type": string(f.Kind)}
		if len(f.Enum) > 0 {
			s["enum"] = f.Enum
		}
	}
	s["description"] = f.Doc
	if f.Default != nil && f.Kind != KindObject {
		s["default"] = f.Default
	}
	if f.Required && f.Kind == KindString {
		s["minLength"] = 1
	}
	return s
}

// needed: the key is required, or is an object holding a required key.
func needed(f *Field) bool {
	if f.Required {
		return true
	}
	if f.Kind == KindObject {
		for _, c := range f.Fields {
			if needed(c) {
				return true
			}
		}
	}
	return false
}
