import HTTPServer

/// A guest request's context: path parameters and the language its pages use.
struct GuestContext: RequestContext {
    var parameters = Parameters()
    var language = "en"
    /// The guest's own choice (`?lang=` or the form's `lang`), when they made one.
    var chosenLanguage: String?
    /// What the browser's Accept-Language asked for, of the languages there are.
    var acceptedLanguage: String?
    init(request: HTTPRequest) {}
}

/// Picks the guest's language: `?lang=` in the URL, then a `lang` form field (the
/// iOS captive sheet keeps no cookies, so the choice travels in links and forms),
/// then the browser's Accept-Language, then the site's default.
struct GuestLocale: RouterMiddleware {
    let available: Set<String>
    let fallback: String

    func handle(_ request: HTTPRequest, context: GuestContext,
                next: (HTTPRequest, GuestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        var context = context
        context.chosenLanguage = chosen(in: request)
        context.acceptedLanguage = accepted(by: request)
        context.language = context.chosenLanguage ?? context.acceptedLanguage ?? fallback
        return try next(request, context)
    }

    func language(for request: HTTPRequest) -> String {
        chosen(in: request) ?? accepted(by: request) ?? fallback
    }

    func chosen(in request: HTTPRequest) -> String? {
        [request.query["lang"], request.form?["lang"]].compactMap { $0 }.first { available.contains($0) }
    }

    /// "de-CH,de;q=0.9,en;q=0.8": the language with the highest q that portald has (listing
    /// order breaks ties; q=0 means "not this one").
    func accepted(by request: HTTPRequest) -> String? {
        var best: (language: String, q: Double)?
        for part in (request.headers["accept-language"] ?? "").split(separator: ",") {
            let pieces = part.split(separator: ";")
            let tag = pieces.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            let language = String(tag.prefix { $0 != "-" })
            let q = pieces.dropFirst().compactMap { piece -> Double? in
                let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return pair.count == 2 && pair[0] == "q" ? Double(pair[1]) : nil
            }.first ?? 1
            guard available.contains(language), q > 0, q > (best?.q ?? 0) else { continue }
            best = (language, q)
        }
        return best?.language
    }
}
