package runbooks

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestCompiledExpressionsAreRemembered: an expression compiled again is the same
// compiled program, and a bad one the same error, without parsing it again; the same
// source as a condition and as a value are two compilations, since a condition must
// yield a bool; and a full memo starts again rather than growing.
func TestCompiledExpressionsAreRemembered(t *testing.T) {
	a, err := CompileValue("math.least(current + 1, 10)")
	if err != nil {
		t.Fatal(err)
	}
	b, err := CompileValue("math.least(current + 1, 10)")
	if err != nil || a != b {
		t.Fatalf("compiled again: %p %v, want the same program %p", b, err, a)
	}
	if _, err := CompileCondition(`labels["service"]`); err == nil || !strings.Contains(err.Error(), "must yield a bool") {
		t.Fatalf("a string as a condition: %v, want a bool error", err)
	}
	if _, err := CompileValue(`labels["service"]`); err != nil {
		t.Fatalf("the same source as a value: %v", err)
	}
	_, err1 := CompileValue("current +")
	_, err2 := CompileValue("current +")
	if err1 == nil || !errors.Is(err2, err1) {
		t.Fatalf("a bad expression twice: %v and %v, want one remembered error", err1, err2)
	}
	for i := 0; i < compiledMax+10; i++ {
		if _, err := CompileValue(strings.Repeat("1+", i%50) + "1 + " + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	compiled.Lock()
	n := len(compiled.m)
	compiled.Unlock()
	if n > compiledMax {
		t.Fatalf("the memo holds %d expressions, more than its bound %d", n, compiledMax)
	}
	// Remembered or not, evaluation is the same.
	e, _ := CompileValue("math.least(current + 1, 10)")
	if v, err := e.Eval(ExprInput{Current: int64(3)}); err != nil || v.Value() != int64(4) {
		t.Fatalf("eval: %v %v, want 4", v, err)
	}
}
