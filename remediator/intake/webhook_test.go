package intake

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
)

// TestWebhookMirrorsAlertmanager holds the payload type to Alertmanager's own
// (notify/webhook.Message): the same JSON fields, of the same shapes, all the way
// down. An Alertmanager upgrade that adds, renames or retypes a field fails here.
func TestWebhookMirrorsAlertmanager(t *testing.T) {
	ours, theirs := jsonShape(reflect.TypeOf(webhookMessage{})), jsonShape(reflect.TypeOf(webhook.Message{}))
	if ours != theirs {
		t.Errorf("the webhook payload differs from Alertmanager's:\nours:         %s\nalertmanager: %s", ours, theirs)
	}
	if !strings.Contains(theirs, "startsAt:time") || !strings.Contains(theirs, "labels:map[string]string") {
		t.Fatalf("the shape misses fields it must have: %s", theirs)
	}
}

// jsonShape describes a type as JSON sees it: exported fields by JSON name (embedded
// structs flattened), maps, slices, times and basic kinds.
func jsonShape(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return "time"
	case t.Kind() == reflect.Map:
		return "map[" + jsonShape(t.Key()) + "]" + jsonShape(t.Elem())
	case t.Kind() == reflect.Slice:
		return "[]" + jsonShape(t.Elem())
	case t.Kind() == reflect.Struct:
		fields := structFields(t)
		sort.Strings(fields)
		return "{" + strings.Join(fields, ",") + "}"
	}
	return t.Kind().String()
}

func structFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-", !f.IsExported() && !f.Anonymous:
			continue
		case f.Anonymous && tag == "":
			e := f.Type
			for e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			out = append(out, structFields(e)...)
			continue
		case tag == "":
			tag = f.Name
		}
		out = append(out, fmt.Sprintf("%s:%s", tag, jsonShape(f.Type)))
	}
	return out
}
