/// The admin API's OpenAPI 3 description, served at `/api/v1/openapi.json`.
enum OpenAPIDocument {
    static let json = """
    {
      "openapi": "3.0.3",
      "info": {"title": "portald admin API", "version": "1"},
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
          "Client": {"type": "object", "required": ["session_id", "mac", "ipv4", "method", "started_at", "expires_at", "seconds_remaining"],
            "properties": {"session_id": {"type": "string"}, "mac": {"type": "string"}, "ipv4": {"type": "string"},
              "method": {"type": "string", "enum": ["terms", "admin"]}, "started_at": {"type": "string", "format": "date-time"},
              "expires_at": {"type": "string", "format": "date-time"}, "seconds_remaining": {"type": "integer"}}},
          "ClientList": {"type": "object", "required": ["clients"], "properties": {"clients": {"type": "array", "items": {"$ref": "#/components/schemas/Client"}}}}
        },
        "responses": {
          "Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "security": [{"bearer": []}],
      "paths": {
        "/api/v1/health": {"get": {"security": [], "responses": {"200": {"description": "alive"}}}},
        "/api/v1/clients": {"get": {"summary": "Devices online (scope clients:read)", "responses": {
          "200": {"description": "active sessions", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClientList"}}}},
          "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/clients/{mac}": {"parameters": [{"name": "mac", "in": "path", "required": true, "schema": {"type": "string"}}],
          "get": {"summary": "One device's session (scope clients:read)", "responses": {
            "200": {"description": "session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Client"}}}},
            "404": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/clients/{mac}/auth": {"parameters": [{"name": "mac", "in": "path", "required": true, "schema": {"type": "string"}}],
          "post": {"summary": "Authorize a device (scope clients:write)",
            "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object",
              "properties": {"ipv4": {"type": "string"}, "minutes": {"type": "integer", "minimum": 1}}}}}},
            "responses": {"201": {"description": "session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Client"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/clients/{mac}/deauth": {"parameters": [{"name": "mac", "in": "path", "required": true, "schema": {"type": "string"}}],
          "post": {"summary": "End a device's session (scope clients:write)", "responses": {
            "200": {"description": "ended session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Client"}}}},
            "404": {"$ref": "#/components/responses/Error"}}}}
      }
    }
    """
}
