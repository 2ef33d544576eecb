package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/jackc/pgx/v5/pgxpool"
)

// function is what Vercel's Go builder sees in one file of api/.
type function struct {
	file    string // relative to the repository, e.g. api/messages/send.go
	path    string // the URL path the file serves
	handler string // the entrypoint function's name
	route   string // the httpapi.Route variable it serves
}

// TestFunctionsFollowTheBuilderRules replays the analysis of Vercel's Go
// builder (@vercel/go, handler mode) on every file of api/ and checks the
// rules DESIGN.md lists, so a deployment cannot fail on a file that builds
// and tests fine locally.
func TestFunctionsFollowTheBuilderRules(t *testing.T) {
	functions := analyse(t)
	if len(functions) == 0 {
		t.Fatal("no functions found under api/")
	}
	handlers := map[string]string{}
	for _, f := range functions {
		if other, dup := handlers[f.handler]; dup {
			t.Errorf("%s and %s both name their handler %s; the builder needs distinct names", f.file, other, f.handler)
		}
		handlers[f.handler] = f.file
	}
}

// TestFunctionsMatchTheRouteTable checks that api/ and the route table that
// `chatwire serve` mounts agree: every route has exactly one file at its path
// serving it, and every file serves the route of its path.
func TestFunctionsMatchTheRouteTable(t *testing.T) {
	byPath := map[string]function{}
	for _, f := range analyse(t) {
		byPath[f.path] = f
	}
	names := routeVariableNames(t)
	for _, route := range httpapi.Routes() {
		if got, want := names[route.Name], route.Path; got != want {
			t.Errorf("route variable %s has Path %q in routes.go but Name %q says %q", route.Name, want, route.Name, got)
		}
		f, ok := byPath[route.Path]
		if !ok {
			t.Errorf("route %s (%s) has no file api%s.go", route.Name, route.Path, strings.TrimPrefix(route.Path, "/api"))
			continue
		}
		if f.route != route.Name {
			t.Errorf("%s serves httpapi.%s, want httpapi.%s for %s", f.file, f.route, route.Name, route.Path)
		}
		delete(byPath, route.Path)
	}
	for _, f := range byPath {
		t.Errorf("%s serves %s, which is not in httpapi.Routes()", f.file, f.path)
	}
}

// TestServeMountsEveryRouteWithItsMethods asks the handler `serve` runs for
// every route with a method it does not allow: the 405 and its Allow header
// prove the path is mounted with the route's method set.
func TestServeMountsEveryRouteWithItsMethods(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"DATABASE_URL":      "postgres://nobody@127.0.0.1:1/none",
			"AUTH_JWT_SECRET":   strings.Repeat("s", 32),
			"REALTIME_DISABLED": "true",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	// The pool never connects: no request below reaches a handler.
	pool, err := pgxpool.New(t.Context(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	deps, err := httpapi.NewDeps(cfg, pool, httpapi.NewLogger(discard{}), httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := httpapi.NewHandler(deps)
	for _, route := range httpapi.Routes() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, route.Path, nil))
		if got, want := rec.Code, http.StatusMethodNotAllowed; got != want {
			t.Errorf("DELETE %s = %d, want %d", route.Path, got, want)
		}
		if got, want := rec.Header().Get("Allow"), strings.Join(route.AllowedMethods(), ", "); got != want {
			t.Errorf("DELETE %s: Allow = %q, want %q", route.Path, got, want)
		}
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/no-such-route", nil))
	if got, want := rec.Code, http.StatusNotFound; got != want {
		t.Errorf("GET /api/no-such-route = %d, want %d", got, want)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// analyse parses every function file under api/ and fails the test on any
// breach of the builder's rules.
func analyse(t *testing.T) []function {
	t.Helper()
	var functions []function
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(filepath.Join("api", path))
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		// The builder skips paths with a segment starting with _ or .
		if strings.Contains("/"+rel, "/_") || strings.Contains("/"+rel, "/.") {
			return nil
		}
		functions = append(functions, analyseFile(t, path, rel))
		return nil
	})
	if err != nil {
		t.Fatalf("walk api/: %v", err)
	}
	return functions
}

func analyseFile(t *testing.T, path, rel string) function {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	f := function{file: rel, path: "/" + strings.TrimSuffix(rel, ".go")}
	if file.Name.Name == "main" {
		t.Errorf("%s: package main is not allowed in api/", rel)
	}
	httpName := ""
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if strings.Contains(p, "/internal/") || strings.HasPrefix(p, "internal/") {
			t.Errorf("%s imports %s: api/ cannot import internal packages (its import path changes on Vercel)", rel, p)
		}
		if p == "net/http" {
			if imp.Name != nil {
				t.Errorf("%s imports net/http as %s: the builder matches the parameter types by the name http", rel, imp.Name.Name)
			}
			httpName = "http"
		}
	}
	if httpName == "" {
		t.Errorf("%s does not import net/http", rel)
	}
	var exported []*ast.FuncDecl
	for _, decl := range file.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Name.IsExported() {
			exported = append(exported, fn)
		}
		if gen, ok := decl.(*ast.GenDecl); ok && gen.Tok != token.IMPORT {
			t.Errorf("%s declares %s at top level: a function file holds only its handler", rel, gen.Tok)
		}
	}
	if len(exported) != 1 {
		t.Errorf("%s has %d exported functions, want exactly the one handler", rel, len(exported))
		return f
	}
	fn := exported[0]
	f.handler = fn.Name.Name
	if fn.Recv != nil {
		t.Errorf("%s: %s has a receiver; the builder wants a plain function", rel, fn.Name.Name)
	}
	if got := paramTypes(fn); !slices.Equal(got, []string{"http.ResponseWriter", "*http.Request"}) {
		t.Errorf("%s: %s takes (%s), want (http.ResponseWriter, *http.Request)", rel, fn.Name.Name, strings.Join(got, ", "))
	}
	f.route = servedRoute(t, rel, fn)
	return f
}

func paramTypes(fn *ast.FuncDecl) []string {
	var types []string
	for _, field := range fn.Type.Params.List {
		name := exprString(field.Type)
		for range max(1, len(field.Names)) {
			types = append(types, name)
		}
	}
	return types
}

func exprString(e ast.Expr) string {
	switch v := e.(type) {
	case *ast.StarExpr:
		return "*" + exprString(v.X)
	case *ast.SelectorExpr:
		return exprString(v.X) + "." + v.Sel.Name
	case *ast.Ident:
		return v.Name
	}
	return "?"
}

// servedRoute checks that the handler's body is the one call
// httpapi.Serve(w, r, httpapi.X) and returns X: no logic lives in api/, and
// no file refers to another file's handler.
func servedRoute(t *testing.T, rel string, fn *ast.FuncDecl) string {
	t.Helper()
	if len(fn.Body.List) != 1 {
		t.Errorf("%s: %s has %d statements, want the single httpapi.Serve call", rel, fn.Name.Name, len(fn.Body.List))
		return ""
	}
	stmt, ok := fn.Body.List[0].(*ast.ExprStmt)
	if !ok {
		t.Errorf("%s: %s does not just call httpapi.Serve", rel, fn.Name.Name)
		return ""
	}
	call, ok := stmt.X.(*ast.CallExpr)
	if !ok || exprString(call.Fun) != "httpapi.Serve" || len(call.Args) != 3 {
		t.Errorf("%s: %s does not call httpapi.Serve(w, r, httpapi.Route)", rel, fn.Name.Name)
		return ""
	}
	route, ok := call.Args[2].(*ast.SelectorExpr)
	if !ok || exprString(route.X) != "httpapi" {
		t.Errorf("%s: the third argument of httpapi.Serve must be an httpapi route variable", rel)
		return ""
	}
	return route.Sel.Name
}

// routeVariableNames reads lib/httpapi/routes.go and maps each Route
// variable's identifier to its Path, so Route.Name can be checked against the
// identifier the api/ files use.
func routeVariableNames(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filepath.Join("..", "lib", "httpapi", "routes.go"), nil, 0)
	if err != nil {
		t.Fatalf("parse routes.go: %v", err)
	}
	paths := map[string]string{}
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || len(spec.Values) != 1 {
			return true
		}
		lit, ok := spec.Values[0].(*ast.UnaryExpr)
		if !ok {
			return true
		}
		comp, ok := lit.X.(*ast.CompositeLit)
		if !ok || exprString(comp.Type) != "Route" {
			return true
		}
		var name, path string
		for _, elt := range comp.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			value, ok := kv.Value.(*ast.BasicLit)
			if !ok {
				continue
			}
			s, _ := strconv.Unquote(value.Value)
			switch exprString(kv.Key) {
			case "Name":
				name = s
			case "Path":
				path = s
			}
		}
		if name != spec.Names[0].Name {
			t.Errorf("routes.go: variable %s has Name %q; they must match", spec.Names[0].Name, name)
		}
		paths[spec.Names[0].Name] = path
		return true
	})
	return paths
}

// TestVercelJSONCoversEveryFunctionOnce checks vercel.json: each function
// file matches exactly one "functions" pattern (so which limits apply is never
// a question of Vercel's precedence), every function gets a maxDuration above
// its handler's deadline, and every cron path is a route.
func TestVercelJSONCoversEveryFunctionOnce(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "vercel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Functions map[string]struct {
			MaxDuration int `json:"maxDuration"`
		} `json:"functions"`
		Crons []struct {
			Path string `json:"path"`
		} `json:"crons"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("vercel.json: %v", err)
	}
	routes := map[string]*httpapi.Route{}
	for _, r := range httpapi.Routes() {
		routes[r.Path] = r
	}
	for _, f := range analyse(t) {
		var matched []string
		for pattern := range cfg.Functions {
			if ok, _ := path.Match(pattern, f.file); ok {
				matched = append(matched, pattern)
			}
		}
		if len(matched) != 1 {
			t.Errorf("%s matches %d patterns of vercel.json %v, want exactly 1", f.file, len(matched), matched)
			continue
		}
		deadline := httpapi.DefaultTimeout
		if r := routes[f.path]; r != nil && r.Timeout > 0 {
			deadline = r.Timeout
		}
		if limit := time.Duration(cfg.Functions[matched[0]].MaxDuration) * time.Second; limit <= deadline {
			t.Errorf("%s: maxDuration %v is not above the handler's deadline %v", f.file, limit, deadline)
		}
	}
	for _, c := range cfg.Crons {
		if routes[c.Path] == nil {
			t.Errorf("cron path %s is not a route", c.Path)
		}
	}
}
