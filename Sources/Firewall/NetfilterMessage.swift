/// One message of an nf_tables transaction.
enum NetfilterMessage {
    case newTable(String)
    case deleteTable(String)
    case newChain(table: String, Ruleset.Chain)
    case newSet(table: String, Ruleset.SetSpec)
    case newRule(table: String, Ruleset.Rule)
    case newElements(table: String, set: String, [SetElement])
    /// No keys: every element (a flush).
    case deleteElements(table: String, set: String, [[UInt8]])

    var summary: String {
        switch self {
        case .newTable(let name): "add table inet \(name)"
        case .deleteTable(let name): "delete table inet \(name)"
        case .newChain(let table, let chain): "add chain inet \(table) \(chain.name)"
        case .newSet(let table, let spec): "add set inet \(table) \(spec.name)"
        case .newRule(let table, let rule): "add rule inet \(table) \(rule.chain)"
        case .newElements(let table, let set, let elements): "add \(elements.count) element(s) to inet \(table) \(set)"
        case .deleteElements(let table, let set, let keys):
            keys.isEmpty ? "flush set inet \(table) \(set)" : "delete \(keys.count) element(s) from inet \(table) \(set)"
        }
    }
}

/// One element as a set's dump reads it.
struct ElementReading {
    var key: [UInt8]
    /// Its counter's bytes; 0 in a set without counters.
    var bytes: UInt64
    /// In an interval set: the first key after a range (not an element of its own).
    var intervalEnd = false
}

/// One element as a message carries it.
struct SetElement {
    var key: [UInt8]
    var timeoutMilliseconds: UInt64?
    /// In an interval set: the first key after a range (not in it).
    var intervalEnd = false
}
