package runbooks

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// Bounds on CEL: expressions come from catalog authors and run inside the remediator,
// so their size and evaluation cost are capped.
const (
	MaxExprBytes  = 4096
	ExprCostLimit = 100_000
)

// Expr is a compiled, type-checked CEL expression.
type Expr struct {
	src string
	prg cel.Program
}

// exprEnvs are built once per process; a cel.Env is immutable once built.
var exprEnvs = sync.OnceValues(func() (*[2]*cel.Env, error) {
	common := []cel.EnvOption{
		cel.Variable("labels", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("annotations", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("value", cel.DoubleType),
		ext.Strings(),
		ext.Math(),
		ext.Encoders(),
		cel.CrossTypeNumericComparisons(true),
	}
	cond, err := cel.NewEnv(common...)
	if err != nil {
		return nil, err
	}
	val, err := cond.Extend(cel.Variable("current", cel.DynType))
	if err != nil {
		return nil, err
	}
	return &[2]*cel.Env{cond, val}, nil
})

// CompileCondition compiles a trigger condition: it sees labels, annotations and value,
// and must yield a bool.
func CompileCondition(src string) (*Expr, error) {
	return compileExpr(src, 0, true)
}

// CompileValue compiles a change value: it also sees current, the value found at the
// edited path, and may yield any type.
func CompileValue(src string) (*Expr, error) {
	return compileExpr(src, 1, false)
}

// compiled remembers what compileExpr made of each source, as exprEnvs remembers the
// environments: compiling is a pure function of its input, and a compiled Expr is
// immutable and safe for concurrent use. Catalogs repeat their expressions, and the
// provider validates every document at validate, plan and apply time: an apply of 200
// runbooks parsed the same expression 800 times, a tenth of the provider's CPU. Bounded:
// a full memo starts again.
var compiled = struct {
	sync.Mutex
	m map[exprKey]exprResult
}{m: map[exprKey]exprResult{}}

const compiledMax = 1024

type exprKey struct {
	src      string
	env      int
	wantBool bool
}

type exprResult struct {
	expr *Expr
	err  error
}

func compileExpr(src string, env int, wantBool bool) (*Expr, error) {
	key := exprKey{src, env, wantBool}
	compiled.Lock()
	r, ok := compiled.m[key]
	compiled.Unlock()
	if ok {
		return r.expr, r.err
	}
	expr, err := compileExprOnce(src, env, wantBool)
	compiled.Lock()
	if len(compiled.m) >= compiledMax {
		clear(compiled.m)
	}
	compiled.m[key] = exprResult{expr, err}
	compiled.Unlock()
	return expr, err
}

func compileExprOnce(src string, env int, wantBool bool) (*Expr, error) {
	if len(src) > MaxExprBytes {
		return nil, fmt.Errorf("expression is %d bytes, more than the %d allowed", len(src), MaxExprBytes)
	}
	envs, err := exprEnvs()
	if err != nil {
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	ast, iss := envs[env].Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("invalid CEL: %w", iss.Err())
	}
	if wantBool && ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("CEL condition must yield a bool, this one yields %s", ast.OutputType())
	}
	prg, err := envs[env].Program(ast, cel.CostLimit(ExprCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("invalid CEL: %w", err)
	}
	return &Expr{src: src, prg: prg}, nil
}

// String returns the source.
func (e *Expr) String() string { return e.src }

// ExprInput is what an expression sees.
type ExprInput struct {
	Labels      map[string]string
	Annotations map[string]string
	Value       float64
	Current     any // only for change values
}

// Eval runs the expression within its cost limit.
func (e *Expr) Eval(in ExprInput) (ref.Val, error) {
	labels, annotations := in.Labels, in.Annotations
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	vars := map[string]any{"labels": labels, "annotations": annotations, "value": in.Value, "current": in.Current}
	if in.Current == nil {
		vars["current"] = types.NullValue
	}
	out, _, err := e.prg.Eval(vars)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %w", e.src, err)
	}
	return out, nil
}

// EvalBool runs a condition.
func (e *Expr) EvalBool(in ExprInput) (bool, error) {
	out, err := e.Eval(in)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluate %q: yielded %s, not a bool", e.src, out.Type().TypeName())
	}
	return b, nil
}
