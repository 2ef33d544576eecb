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
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/jackc/pgx/v5/pgxpool"
)

// What Vercel's build makes of api/ (every route a function, each with its
// limits from vercel.json, answering real requests) is checked by the real
// build in deploy/vercel_test.go. The tests here check what no build shows:
// the project's own rules for api/, and the mux `serve` runs.

// function is one file of api/.
type function struct {
	file  string // relative to the repository, e.g. api/messages/send.go
	path  string // the URL path the file serves on Vercel
	route string // the httpapi.Route variable it serves
}

// TestFunctionsMatchTheRouteTable checks that api/ and the route table that
// `chatwire serve` mounts agree: every route has exactly one file at its path
// serving it, every file serves the route of its path, and holds no logic of
// its own (one httpapi.Serve call), so Vercel and serve run the same code.
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
		filePath := route.Path
		if route.VercelFile != "" {
			filePath = route.VercelFile
			checkRewrite(t, route.Path, route.VercelFile)
		}
		f, ok := byPath[filePath]
		if !ok {
			t.Errorf("route %s (%s) has no file api%s.go", route.Name, route.Path, strings.TrimPrefix(filePath, "/api"))
			continue
		}
		if f.route != route.Name {
			t.Errorf("%s serves httpapi.%s, want httpapi.%s for %s", f.file, f.route, route.Name, route.Path)
		}
		delete(byPath, filePath)
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

// checkRewrite finds the vercel.json rewrite that takes a path with a
// {parameter} to the function file serving it, the parameter in the query.
func checkRewrite(t *testing.T, routePath, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "vercel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Rewrites []struct{ Source, Destination string }
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("vercel.json: %v", err)
	}
	name := routePath[strings.LastIndexByte(routePath, '{')+1 : len(routePath)-1]
	source := strings.Replace(routePath, "{"+name+"}", ":"+name, 1)
	want := file + "?" + name + "=:" + name
	for _, rw := range cfg.Rewrites {
		if rw.Source == source {
			if rw.Destination != want {
				t.Errorf("vercel.json rewrites %s to %s, want %s", source, rw.Destination, want)
			}
			return
		}
	}
	t.Errorf("vercel.json has no rewrite of %s to %s", source, want)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// analyse parses every function file under api/.
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
		functions = append(functions, analyseFile(t, path, rel))
		return nil
	})
	if err != nil {
		t.Fatalf("walk api/: %v", err)
	}
	return functions
}

// analyseFile checks that the file holds one function, the handler, and
// returns the route it serves.
func analyseFile(t *testing.T, path, rel string) function {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	f := function{file: rel, path: "/" + strings.TrimSuffix(rel, ".go")}
	var funcs []*ast.FuncDecl
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			funcs = append(funcs, d)
		case *ast.GenDecl:
			if d.Tok != token.IMPORT {
				t.Errorf("%s declares %s at top level: a function file holds only its handler", rel, d.Tok)
			}
		}
	}
	if len(funcs) != 1 {
		t.Errorf("%s declares %d functions, want exactly the handler", rel, len(funcs))
		return f
	}
	fn := funcs[0]
	if got := paramTypes(fn); !fn.Name.IsExported() || fn.Recv != nil || !slices.Equal(got, []string{"http.ResponseWriter", "*http.Request"}) {
		t.Errorf("%s: %s(%s) is not an exported func(http.ResponseWriter, *http.Request)", rel, fn.Name.Name, strings.Join(got, ", "))
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
