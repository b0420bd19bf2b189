package http

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// The OpenAPI document is built from the same route table the server serves, with JSON
// Schemas reflected from the Go types the routes read and write, so it cannot drift from
// the routes; a test checks that every documented operation reaches a handler.

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// OpenAPI returns the OpenAPI 3.1 document of the API.
func (s *Server) OpenAPI() map[string]any {
	routes := s.routes
	if routes == nil {
		routes = s.allRoutes()
	}
	schemas := map[string]any{}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"responses": map[string]any{
				"default": map[string]any{"description": "An error: {\"error\":{\"code\",\"message\"}}", "content": jsonContent(ref(schemas, ErrorBody{}))},
			},
		}
		okStatus := "200"
		if rt.Method == "POST" && isCreate(rt) {
			okStatus = "201"
		}
		resp := map[string]any{"description": "Done."}
		if rt.Response != nil {
			resp["content"] = jsonContent(ref(schemas, rt.Response))
		}
		op["responses"].(map[string]any)[okStatus] = resp
		if rt.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": jsonContent(ref(schemas, rt.Request))}
		}
		if rt.Perm != "" {
			op["security"] = []any{map[string]any{"session": []string{}}, map[string]any{"token": []string{}}}
			op["description"] = "Needs permission to " + string(rt.Perm) + "."
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "integer"}})
		}
		if rt.Method == "GET" && rt.Response != nil && strings.HasPrefix(reflect.TypeOf(rt.Response).String(), "http.List") {
			for _, q := range []string{"offset", "limit"} {
				params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "integer"}})
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Latchkey API", "version": "1",
			"description": "Keys, codes and safe changes to Kwikset locks. Errors are {\"error\":{\"code\",\"message\"}} with the codes invalid, not_found, conflict, unsafe, unauthorized, forbidden, unavailable, internal."},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
				"token":   map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
}

func isCreate(rt route) bool {
	return strings.HasPrefix(rt.Summary, "Add") || strings.HasPrefix(rt.Summary, "Record a key") ||
		strings.HasPrefix(rt.Summary, "Record another") || strings.HasPrefix(rt.Summary, "Make") || strings.HasPrefix(rt.Summary, "Start") || strings.HasPrefix(rt.Summary, "Keep")
}

func operationID(rt route) string {
	id := strings.ToLower(rt.Method)
	for _, part := range strings.Split(strings.TrimPrefix(rt.Pattern, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		part = strings.ReplaceAll(strings.ReplaceAll(part, ".", "_"), "-", "_")
		if part != "" {
			id += "_" + part
		}
	}
	return id
}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

var timeType = reflect.TypeOf(time.Time{})

// ref returns a schema for v's type, registering named struct types as components.
func ref(schemas map[string]any, v any) any {
	return schemaOf(schemas, reflect.TypeOf(v))
}

func schemaOf(schemas map[string]any, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == reflect.TypeOf(latchkey.PIN("")):
		return map[string]any{"type": "string"}
	case t == reflect.TypeOf(json.RawMessage(nil)):
		return map[string]any{"type": "object", "description": "JSON as it was recorded (a webhook delivery's payload: docs/webhooks.md)"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(schemas, t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(schemas, t.Elem())}
	case reflect.Struct:
		name := schemaName(t)
		if name == "" { // an anonymous struct has no name to register: it stands inline
			props := map[string]any{}
			addFields(schemas, t, props)
			return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		}
		if _, done := schemas[name]; !done {
			schemas[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			addFields(schemas, t, props)
			// The server refuses fields it does not know; the document says so.
			schemas[name] = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func addFields(schemas map[string]any, t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(schemas, ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(schemas, f.Type)
	}
}

func schemaName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		// List[*github.com/.../latchkey.Site] → ListSite
		inner := name[i+1 : len(name)-1]
		inner = inner[strings.LastIndexAny(inner, ".*")+1:]
		name = name[:i] + inner
	}
	return name
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OpenAPI())
}
