/// What a reconciliation changed in the kernel to make it match the sessions.
public struct Repair: Sendable, Equatable {
    /// The table (or one of its sets) was missing and was installed again.
    public var reinstalled = false
    /// Devices whose access or counting elements were missing and were added.
    public var added: [DeviceKey] = []
    /// Elements of the authorized set that no live session stands for, removed.
    public var removed: [DeviceKey] = []
    /// The trusted or blocked set differed from the rules and was put back.
    public var rulesRestored = false
    /// The tiers' sets and the walled garden's networks, put back.
    public var extras = ExtrasRepair()

    public init(reinstalled: Bool = false, added: [DeviceKey] = [], removed: [DeviceKey] = [], rulesRestored: Bool = false,
                extras: ExtrasRepair = ExtrasRepair()) {
        self.reinstalled = reinstalled
        self.added = added
        self.removed = removed
        self.rulesRestored = rulesRestored
        self.extras = extras
    }

    public var isEmpty: Bool { !reinstalled && added.isEmpty && removed.isEmpty && !rulesRestored && extras == ExtrasRepair() }
}

extension Firewall {
    /// Makes the kernel hold exactly `desired`, the live sessions' devices: a missing
    /// table is installed again with all of them; missing elements are added (present
    /// ones keep their counters); elements no session stands for are removed; the
    /// trusted and blocked sets are put back to the rules; the tiers' sets and the
    /// walled garden's networks too.
    public func reconcile(desired: [AuthorizedDevice]) throws -> Repair {
        try readBackStarted()
        guard let state = try state() else {
            try install(devices: desired)
            return Repair(reinstalled: true, added: desired.map(\.key))
        }
        let wanted = Set(desired.map(\.key))
        let removed = state.authorized.subtracting(wanted).sorted()
        // Removing an element removes its address's counting elements too: a live device
        // on that address gets them back below.
        let emptied = Set(removed.map(\.address))
        let missing = desired.filter { device in
            !state.authorized.contains(device.key) || !state.counted.contains(device.address) || emptied.contains(device.address)
        }
        try update(removing: removed, adding: [])
        try restore(missing)
        let rulesDiffer = state.rules != deviceRules
        if rulesDiffer { try setDeviceRules(deviceRules) }
        let extras = try repairExtras(desired: desired)
        if extras.tableIncomplete {
            try install(devices: desired)
            return Repair(reinstalled: true, added: desired.map(\.key))
        }
        try readBackFinished()
        return Repair(added: missing.map(\.key), removed: removed, rulesRestored: rulesDiffer, extras: extras)
    }
}
