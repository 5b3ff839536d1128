package configdoc

import "path/filepath"

// The generated files, relative to the module's root.
const (
	MarkdownFile = "docs/remediator-config.md"
	SchemaFile   = "docs/remediator-config.schema.json"
)

// Render reads remediator/config under root and returns each generated file's content
// by its path relative to root.
func Render(root string) (map[string][]byte, error) {
	fields, err := Fields(filepath.Join(root, "remediator", "config"))
	if err != nil {
		return nil, err
	}
	schema, err := Schema(fields)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{MarkdownFile: Markdown(fields), SchemaFile: schema}, nil
}
