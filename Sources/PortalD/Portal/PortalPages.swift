import Foundation
import Mustache

/// The guest pages: small, readable on a phone, no JavaScript, no external assets
/// (nothing outside the portal loads before login), working in the iOS captive sheet.
struct PortalPages: Sendable {
    private let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for (name, text) in Self.templates {
            // The templates are compiled in; a syntax error is a programming error.
            try! library.register(text, named: name)
        }
        self.library = library
    }

    func render(_ name: String, _ values: [String: Any]) -> String {
        library.render(values, withTemplate: name) ?? "<!doctype html><title>Error</title><p>Page unavailable.</p>"
    }

    static let templates: [String: String] = [
        "layout": """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{$title}}{{site}}{{/title}}</title>
        <style>
        body{font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f1ea;color:#1d1d1f}
        main{max-width:28rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
        h1{font-size:1.5rem;margin:.5rem 0 1rem}
        .card{background:#fff;border-radius:14px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
        .terms{max-height:12rem;overflow:auto;font-size:.9rem;color:#444;border:1px solid #e4e0d8;border-radius:8px;padding:.75rem;margin:0 0 1rem}
        label{display:flex;gap:.6rem;align-items:flex-start;margin:0 0 1rem}
        input[type=checkbox]{width:1.4rem;height:1.4rem;flex:none;margin:0}
        button,.button{display:block;width:100%;box-sizing:border-box;padding:.9rem;border:0;border-radius:10px;background:#1f5c4a;color:#fff;font-size:1.05rem;text-align:center;text-decoration:none}
        .error{background:#fdecea;color:#8a1c12;border-radius:8px;padding:.75rem;margin:0 0 1rem}
        .muted{color:#666;font-size:.9rem}
        </style>
        </head>
        <body><main>
        <h1>{{site}}</h1>
        <div class="card">
        {{$body}}{{/body}}
        </div>
        </main></body>
        </html>
        """,
        "splash": """
        {{<layout}}
        {{$title}}Connect to {{site}} WiFi{{/title}}
        {{$body}}
        <p>Welcome! Accept the terms of use to go online.</p>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/login/terms">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="url" value="{{url}}">
        <div class="terms">By connecting you agree to use the network lawfully and considerately. The hotel may limit or end access at any time. Your device's hardware address and connection times are recorded for the duration of your stay.</div>
        <label><input type="checkbox" name="accept" value="yes" required> <span>I accept the terms of use</span></label>
        <button type="submit">Connect</button>
        </form>
        {{/body}}
        {{/layout}}
        """,
        "online": """
        {{<layout}}
        {{$title}}You are online{{/title}}
        {{$body}}
        <p><strong>You are online.</strong></p>
        <p class="muted">Your access is valid until {{expires}} (UTC).</p>
        {{#url}}<p><a class="button" href="{{url}}">Continue to {{url}}</a></p>{{/url}}
        {{^url}}<p class="muted">You can close this page.</p>{{/url}}
        {{/body}}
        {{/layout}}
        """,
        "message": """
        {{<layout}}
        {{$title}}{{heading}}{{/title}}
        {{$body}}
        <p><strong>{{heading}}</strong></p>
        <p>{{message}}</p>
        <p><a class="button" href="{{link}}">{{linkText}}</a></p>
        {{/body}}
        {{/layout}}
        """,
    ]
}
