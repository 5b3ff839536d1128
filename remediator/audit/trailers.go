package audit

import "strings"

// Trailers reads the trailer block of a commit message (its last paragraph of
// "Key: value" lines), keeping repeated keys such as Approved-by in order.
func Trailers(msg string) [][2]string {
	msg = strings.TrimRight(msg, "\n")
	i := strings.LastIndex(msg, "\n\n")
	last := msg
	if i >= 0 {
		last = msg[i+2:]
	}
	var out [][2]string
	for _, line := range strings.Split(last, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

func first(t [][2]string, key string) string {
	for _, kv := range t {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

func all(t [][2]string, key string) []string {
	var out []string
	for _, kv := range t {
		if kv[0] == key {
			out = append(out, kv[1])
		}
	}
	return out
}
