internal import CNetfilter
import Glibc
import Synchronization

/// The only Swift that touches libnftnl and libmnl: a netlink socket that sends
/// nf_tables transactions and checks one acknowledgement per message.
///
/// A transaction is one `sendmsg` of a batch (begin … end); the kernel applies all
/// of it or none of it. Every message carries `NLM_F_ACK`, so a failure names the
/// message that caused it.
final class NetfilterSocket: Sendable {
    /// The socket and its buffers, allocated once: a login's commit used to map and
    /// zero 256 KiB per message and 1 MiB per reply, which was most of its netlink time.
    private struct Handle: @unchecked Sendable {
        let socket: OpaquePointer
        var sequence: UInt32
        let scratch: UnsafeMutableRawPointer
        let receive: UnsafeMutableRawPointer
    }
    private let handle: Mutex<Handle>
    private let portID: UInt32
    /// Whether the big socket buffers could be forced (they need CAP_NET_ADMIN).
    private let bufferForced: Bool

    /// Largest encoded message; a 1 000-element message is ~40 KiB. libmnl zeroes
    /// what it writes (headers, attribute padding), so the buffer is never cleared.
    private static let messageCapacity = 256 * 1024
    /// One receive: a batch's acknowledgements, or a part of a set dump.
    private static let receiveCapacity = 1 << 20

    init() throws {
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw FirewallError("cannot open a netfilter netlink socket: \(String(cString: strerror(errno)))")
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let reason = String(cString: strerror(errno))
            mnl_socket_close(socket)
            throw FirewallError("cannot bind the netfilter netlink socket: \(reason)")
        }
        // Large batches and their acknowledgements must fit the socket buffers whole;
        // the FORCE variants need CAP_NET_ADMIN, which portald has.
        var size: Int32 = 16 * 1024 * 1024
        let fd = mnl_socket_get_fd(socket)
        var forced = true
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            forced = false  // without CAP_NET_ADMIN: a big batch will not fit, and the kernel would refuse it anyway
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        bufferForced = forced
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        portID = mnl_socket_get_portid(socket)
        handle = Mutex(Handle(socket: socket, sequence: UInt32(truncatingIfNeeded: time(nil)),
                              scratch: .allocate(byteCount: Self.messageCapacity, alignment: 16),
                              receive: .allocate(byteCount: Self.receiveCapacity, alignment: 16)))
    }

    deinit {
        handle.withLock { handle in
            _ = mnl_socket_close(handle.socket)
            handle.scratch.deallocate()
            handle.receive.deallocate()
        }
    }

    /// Sends `messages` as one atomic transaction. Returns the ruleset's generation just
    /// before and just after it (the kernel counts every transaction committed in the
    /// namespace, anyone's): `after == before + 1` means none came between. Nil where it
    /// could not be read: the commit's own answer is the error to report (without
    /// CAP_NET_ADMIN the kernel refuses both, and "add table" says more than "get generation").
    @discardableResult
    func commit(_ messages: [NetfilterMessage]) throws -> (before: UInt32?, after: UInt32?) {
        try handle.withLock { handle in
            let before = try? Self.generation(&handle)
            let scratch = handle.scratch
            var batch: [UInt8] = []
            var pending: [UInt32: String] = [:]

            func append(_ header: UnsafeMutablePointer<nlmsghdr>?) {
                guard let header else { return }
                let length = Int(header.pointee.nlmsg_len)
                let padded = (length + 3) & ~3
                batch.append(contentsOf: UnsafeRawBufferPointer(start: header, count: length))
                batch.append(contentsOf: [UInt8](repeating: 0, count: padded - length))
            }
            func nextSequence() -> UInt32 { Self.nextSequence(&handle) }

            let chars = scratch.assumingMemoryBound(to: CChar.self)
            let begin = nextSequence()
            append(nftnl_batch_begin(chars, begin))
            for message in messages {
                let sequence = nextSequence()
                append(try Self.encode(message, into: chars, sequence: sequence))
                pending[sequence] = message.summary
            }
            append(nftnl_batch_end(chars, nextSequence()))

            let sent = batch.withUnsafeBytes { mnl_socket_sendto(handle.socket, $0.baseAddress, $0.count) }
            guard sent == batch.count else {
                let error = errno
                let hint = error == EMSGSIZE && !bufferForced ? Self.capabilityHint : ""
                throw FirewallError("netlink send of \(batch.count) bytes failed: \(String(cString: strerror(error)))\(hint)", errno: error)
            }
            try readAcknowledgements(socket: handle.socket, buffer: handle.receive, pending: &pending,
                                     batch: (begin, messages.first?.summary ?? "an empty transaction"))
            return (before, try? Self.generation(&handle))
        }
    }

    /// The ruleset's generation now.
    func generation() throws -> UInt32 { try handle.withLock { try Self.generation(&$0) } }

    private static func generation(_ handle: inout Handle) throws -> UInt32 {
        let sequence = nextSequence(&handle)
        let request = nftnl_nlmsg_build_hdr(handle.scratch.assumingMemoryBound(to: CChar.self), UInt16(NFT_MSG_GETGEN.rawValue),
                                            UInt16(AF_UNSPEC), 0, sequence)!
        var generation: UInt32?
        try exchange(&handle, request, sequence: sequence, refused: "get generation", silent: "no answer to the generation request") { message in
            let gen = nftnl_gen_alloc()!
            defer { nftnl_gen_free(gen) }
            guard nftnl_gen_nlmsg_parse(message, gen) >= 0 else { throw FirewallError("netlink: an unreadable generation") }
            generation = nftnl_gen_get_u32(gen, UInt16(NFTNL_GEN_ID))
            return true
        }
        return generation!
    }

    /// The elements of a set that has a counter, with their byte counts: all of them
    /// (a dump), or only the one with `key` (a lookup). A missing table, set or
    /// element is a `FirewallError` with errno ENOENT.
    func counters(table: String, set setName: String, key: [UInt8]? = nil) throws -> [(key: [UInt8], bytes: UInt64)] {
        try handle.withLock { handle in
            let sequence = Self.nextSequence(&handle)
            let set = Self.setObject(table: table, name: setName)
            defer { nftnl_set_free(set) }
            if let key {
                let item = nftnl_set_elem_alloc()!
                key.withUnsafeBytes { _ = nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
                nftnl_set_elem_add(set, item)
            }
            // A dump is answered by NEWSETELEM messages closed by NLMSG_DONE; a lookup by
            // one NEWSETELEM message or an error. No ACK is asked for either.
            let request = nftnl_nlmsg_build_hdr(handle.receive.assumingMemoryBound(to: CChar.self), UInt16(NFT_MSG_GETSETELEM.rawValue),
                                                UInt16(Self.family), UInt16(key == nil ? NLM_F_DUMP : 0), sequence)!
            nftnl_set_elems_nlmsg_build_payload(request, set)
            var result: [(key: [UInt8], bytes: UInt64)] = []
            try Self.exchange(&handle, request, sequence: sequence, refused: "list set inet \(table) \(setName)",
                              silent: "the set dump of \(setName) did not finish") { message in
                result += Self.parseCounters(message)
                return key != nil
            }
            return result
        }
    }

    private static func nextSequence(_ handle: inout Handle) -> UInt32 {
        handle.sequence &+= 1
        return handle.sequence
    }

    /// Sends `request` (no ACK asked for) and hands each answer with its sequence to
    /// `answer`, until that returns true or NLMSG_DONE arrives. An error answer is thrown
    /// as the kernel refusing `refused`; no answer within a second as `silent`.
    private static func exchange(_ handle: inout Handle, _ request: UnsafeMutablePointer<nlmsghdr>, sequence: UInt32, refused: String, silent: String,
                                 _ answer: (UnsafePointer<nlmsghdr>) throws -> Bool) throws {
        guard mnl_socket_sendto(handle.socket, request, Int(request.pointee.nlmsg_len)) >= 0 else {
            throw FirewallError("netlink send failed: \(String(cString: strerror(errno)))")
        }
        var pollfd = Glibc.pollfd(fd: mnl_socket_get_fd(handle.socket), events: Int16(POLLIN), revents: 0)
        while true {
            guard poll(&pollfd, 1, 1000) > 0 else { throw FirewallError("netlink: \(silent)") }
            let received = mnl_socket_recvfrom(handle.socket, handle.receive, receiveCapacity)
            guard received > 0 else { throw FirewallError("netlink receive failed: \(String(cString: strerror(errno)))") }
            var remaining = Int32(received)
            var message: UnsafePointer<nlmsghdr>? = UnsafePointer(handle.receive.assumingMemoryBound(to: nlmsghdr.self))
            while let current = message, mnl_nlmsg_ok(current, remaining) {
                defer { message = UnsafePointer(mnl_nlmsg_next(current, &remaining)) }
                guard portald_nlmsg_seq(current) == sequence else { continue }  // a late reply to something else
                switch Int32(portald_nlmsg_type(current)) {
                case NLMSG_DONE:
                    return
                case NLMSG_ERROR:
                    let error = portald_nlmsg_error(current)
                    if error != 0 { throw refusal(refused, errno: -error) }
                default:
                    if try answer(current) { return }
                }
            }
        }
    }

    private static func parseCounters(_ message: UnsafePointer<nlmsghdr>) -> [(key: [UInt8], bytes: UInt64)] {
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        guard nftnl_set_elems_nlmsg_parse(message, set) >= 0, let iterator = nftnl_set_elems_iter_create(set) else { return [] }
        defer { nftnl_set_elems_iter_destroy(iterator) }
        var result: [(key: [UInt8], bytes: UInt64)] = []
        while let element = nftnl_set_elems_iter_next(iterator) {
            var length: UInt32 = 0
            guard let key = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_KEY), &length) else { continue }
            var bytes: UInt64 = 0
            if let expression = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_EXPR), nil) {
                let counter = OpaquePointer(expression)
                if let name = nftnl_expr_get_str(counter, UInt16(NFTNL_EXPR_NAME)), String(cString: name) == "counter" {
                    bytes = nftnl_expr_get_u64(counter, UInt16(NFTNL_EXPR_CTR_BYTES))
                }
            }
            result.append((Array(UnsafeRawBufferPointer(start: key, count: Int(length))), bytes))
        }
        return result
    }

    /// Reads one NLMSG_ERROR per message; the kernel queues them all before `sendmsg`
    /// returns, so a short wait only guards against a lost reply.
    /// `batch`: the batch's begin message and what it starts with. The kernel refuses a whole
    /// batch (no CAP_NET_ADMIN) with one error to that message and acknowledges nothing else.
    private func readAcknowledgements(socket: OpaquePointer, buffer: UnsafeMutableRawPointer, pending: inout [UInt32: String],
                                      batch: (sequence: UInt32, first: String)) throws {
        let capacity = Self.receiveCapacity
        var failure: (errno: Int32, message: String)?
        var pollfd = Glibc.pollfd(fd: mnl_socket_get_fd(socket), events: Int16(POLLIN), revents: 0)
        while !pending.isEmpty {
            let ready = poll(&pollfd, 1, 1000)
            guard ready > 0 else {
                throw FirewallError("netlink: no acknowledgement for \(pending.values.sorted().joined(separator: ", "))")
            }
            let received = mnl_socket_recvfrom(socket, buffer, capacity)
            guard received > 0 else {
                throw FirewallError("netlink receive failed: \(String(cString: strerror(errno)))")
            }
            var remaining = Int32(received)
            var message: UnsafePointer<nlmsghdr>? = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while let current = message, mnl_nlmsg_ok(current, remaining) {
                if portald_nlmsg_type(current) == UInt16(NLMSG_ERROR) {
                    let sequence = portald_nlmsg_seq(current)
                    let error = portald_nlmsg_error(current)
                    if let summary = pending.removeValue(forKey: sequence), error != 0, failure == nil {
                        failure = (-error, summary)
                    } else if sequence == batch.sequence, error != 0 {
                        failure = (-error, batch.first)
                        pending.removeAll()
                    }
                }
                message = UnsafePointer(mnl_nlmsg_next(current, &remaining))
            }
        }
        if let failure {
            throw Self.refusal(failure.message, errno: failure.errno)
        }
    }

    /// What the kernel refused, and why; the one cause IT can fix at once (the process
    /// lacks the capability) is named.
    static let capabilityHint = " (portald needs CAP_NET_ADMIN: run it as root, or as the unit does with AmbientCapabilities=CAP_NET_ADMIN)"

    static func refusal(_ what: String, errno: Int32) -> FirewallError {
        let hint = errno == EPERM ? capabilityHint : ""
        return FirewallError("nftables refused \"\(what)\": \(String(cString: strerror(errno)))\(hint)", errno: errno)
    }

    // MARK: - Encoding

    private static let family = UInt32(NFPROTO_INET)

    private static func header(_ buffer: UnsafeMutablePointer<CChar>, _ type: nf_tables_msg_types, flags: Int32, _ sequence: UInt32) -> UnsafeMutablePointer<nlmsghdr> {
        nftnl_nlmsg_build_hdr(buffer, UInt16(type.rawValue), UInt16(family), UInt16(flags | NLM_F_ACK), sequence)
    }

    private static func encode(_ message: NetfilterMessage, into buffer: UnsafeMutablePointer<CChar>, sequence: UInt32) throws -> UnsafeMutablePointer<nlmsghdr> {
        switch message {
        case .newTable(let name), .deleteTable(let name):
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), name)
            nftnl_table_set_u32(table, UInt16(NFTNL_TABLE_FAMILY.rawValue), family)
            let isNew = if case .newTable = message { true } else { false }
            let nlh = header(buffer, isNew ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE, flags: isNew ? NLM_F_CREATE : 0, sequence)
            nftnl_table_nlmsg_build_payload(nlh, table)
            return nlh

        case .newChain(let tableName, let spec):
            let chain = nftnl_chain_alloc()!
            defer { nftnl_chain_free(chain) }
            nftnl_chain_set_str(chain, UInt16(NFTNL_CHAIN_TABLE.rawValue), tableName)
            nftnl_chain_set_str(chain, UInt16(NFTNL_CHAIN_NAME.rawValue), spec.name)
            nftnl_chain_set_u32(chain, UInt16(NFTNL_CHAIN_FAMILY.rawValue), family)
            nftnl_chain_set_str(chain, UInt16(NFTNL_CHAIN_TYPE.rawValue), spec.type.rawValue)
            let hook: UInt32 = switch spec.hook {
            case .prerouting: NF_INET_PRE_ROUTING.rawValue
            case .input: NF_INET_LOCAL_IN.rawValue
            case .forward: NF_INET_FORWARD.rawValue
            }
            nftnl_chain_set_u32(chain, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), hook)
            nftnl_chain_set_s32(chain, UInt16(NFTNL_CHAIN_PRIO.rawValue), spec.priority)
            nftnl_chain_set_u32(chain, UInt16(NFTNL_CHAIN_POLICY.rawValue), UInt32(NF_ACCEPT))
            let nlh = header(buffer, NFT_MSG_NEWCHAIN, flags: NLM_F_CREATE, sequence)
            nftnl_chain_nlmsg_build_payload(nlh, chain)
            return nlh

        case .newSet(let tableName, let spec):
            let set = setObject(table: tableName, name: spec.name)
            defer { nftnl_set_free(set) }
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_ID.rawValue), spec.id)  // the kernel requires one
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_FLAGS.rawValue),
                              (spec.timeout ? UInt32(NFT_SET_TIMEOUT.rawValue) : 0) | (spec.interval ? UInt32(NFT_SET_INTERVAL.rawValue) : 0))
            if let timeout = spec.defaultTimeoutMilliseconds {
                nftnl_set_set_u64(set, UInt16(NFTNL_SET_TIMEOUT.rawValue), timeout)
            }
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_KEY_TYPE.rawValue), spec.keyType)
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_KEY_LEN.rawValue), spec.keyLength)
            if spec.counter {
                nftnl_set_add_expr(set, nftnl_expr_alloc("counter"))  // every element gets its own counter
            }
            if let limit = spec.limit {  // every element gets its own `limit rate over …`: a bandwidth tier
                let e = nftnl_expr_alloc("limit")!
                nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_LIMIT_RATE), limit.bytesPerSecond)
                nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_LIMIT_UNIT), 1)
                nftnl_expr_set_u32(e, UInt16(NFTNL_EXPR_LIMIT_BURST), limit.burstBytes)
                nftnl_expr_set_u32(e, UInt16(NFTNL_EXPR_LIMIT_TYPE), UInt32(NFT_LIMIT_PKT_BYTES.rawValue))
                nftnl_expr_set_u32(e, UInt16(NFTNL_EXPR_LIMIT_FLAGS), UInt32(NFT_LIMIT_F_INV.rawValue))
                nftnl_set_add_expr(set, e)
            }
            let nlh = header(buffer, NFT_MSG_NEWSET, flags: NLM_F_CREATE, sequence)
            nftnl_set_nlmsg_build_payload(nlh, set)
            return nlh

        case .newRule(let tableName, let spec):
            let rule = nftnl_rule_alloc()!
            defer { nftnl_rule_free(rule) }
            nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_TABLE.rawValue), tableName)
            nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_CHAIN.rawValue), spec.chain)
            nftnl_rule_set_u32(rule, UInt16(NFTNL_RULE_FAMILY.rawValue), family)
            for expression in spec.expressions {
                nftnl_rule_add_expr(rule, makeExpression(expression))  // the rule owns it now
            }
            let nlh = header(buffer, NFT_MSG_NEWRULE, flags: NLM_F_CREATE | NLM_F_APPEND, sequence)
            nftnl_rule_nlmsg_build_payload(nlh, rule)
            return nlh

        case .newElements(let tableName, let setName, let elements):
            return encodeElements(elements, table: tableName, set: setName, type: NFT_MSG_NEWSETELEM, flags: NLM_F_CREATE, into: buffer, sequence: sequence)

        case .deleteElements(let tableName, let setName, let keys):
            return encodeElements(keys.map { SetElement(key: $0) }, table: tableName, set: setName, type: NFT_MSG_DELSETELEM, flags: 0, into: buffer, sequence: sequence)
        }
    }

    private static func encodeElements(_ elements: [SetElement], table: String, set setName: String,
                                       type: nf_tables_msg_types, flags: Int32,
                                       into buffer: UnsafeMutablePointer<CChar>, sequence: UInt32) -> UnsafeMutablePointer<nlmsghdr> {
        let set = setObject(table: table, name: setName)
        defer { nftnl_set_free(set) }
        for element in elements {
            let item = nftnl_set_elem_alloc()!
            element.key.withUnsafeBytes { _ = nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
            if let timeout = element.timeoutMilliseconds {
                nftnl_set_elem_set_u64(item, UInt16(NFTNL_SET_ELEM_TIMEOUT), timeout)
            }
            if element.intervalEnd {
                nftnl_set_elem_set_u32(item, UInt16(NFTNL_SET_ELEM_FLAGS), UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue))
            }
            nftnl_set_elem_add(set, item)  // the set owns it now
        }
        let nlh = header(buffer, type, flags: flags, sequence)
        nftnl_set_elems_nlmsg_build_payload(nlh, set)
        return nlh
    }

    private static func setObject(table: String, name: String) -> OpaquePointer {
        let set = nftnl_set_alloc()!
        nftnl_set_set_str(set, UInt16(NFTNL_SET_TABLE.rawValue), table)
        nftnl_set_set_str(set, UInt16(NFTNL_SET_NAME.rawValue), name)
        nftnl_set_set_u32(set, UInt16(NFTNL_SET_FAMILY.rawValue), family)
        if let spec = Ruleset.set(named: name) {
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_ID.rawValue), spec.id)
        }
        return set
    }

    private static func makeExpression(_ expression: Ruleset.Expression) -> OpaquePointer {
        func make(_ name: String) -> OpaquePointer { nftnl_expr_alloc(name)! }
        func u32(_ e: OpaquePointer, _ attribute: some BinaryInteger, _ value: UInt32) {
            nftnl_expr_set_u32(e, UInt16(attribute), value)
        }
        func bytes(_ e: OpaquePointer, _ attribute: some BinaryInteger, _ data: [UInt8]) {
            data.withUnsafeBytes { _ = nftnl_expr_set(e, UInt16(attribute), $0.baseAddress, UInt32($0.count)) }
        }
        switch expression {
        case .meta(let key, let register):
            let e = make("meta")
            let code: UInt32 = switch key {
            case .iifname: NFT_META_IIFNAME.rawValue
            case .oifname: NFT_META_OIFNAME.rawValue
            case .iiftype: NFT_META_IFTYPE.rawValue
            case .nfproto: NFT_META_NFPROTO.rawValue
            case .l4proto: NFT_META_L4PROTO.rawValue
            }
            u32(e, NFTNL_EXPR_META_KEY, code)
            u32(e, NFTNL_EXPR_META_DREG, register)
            return e
        case .payload(let base, let offset, let length, let register):
            let e = make("payload")
            let code: UInt32 = switch base {
            case .link: NFT_PAYLOAD_LL_HEADER.rawValue
            case .network: NFT_PAYLOAD_NETWORK_HEADER.rawValue
            case .transport: NFT_PAYLOAD_TRANSPORT_HEADER.rawValue
            }
            u32(e, NFTNL_EXPR_PAYLOAD_BASE, code)
            u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
            u32(e, NFTNL_EXPR_PAYLOAD_LEN, length)
            u32(e, NFTNL_EXPR_PAYLOAD_DREG, register)
            return e
        case .cmp(let op, let register, let data):
            let e = make("cmp")
            u32(e, NFTNL_EXPR_CMP_SREG, register)
            u32(e, NFTNL_EXPR_CMP_OP, op == .eq ? NFT_CMP_EQ.rawValue : NFT_CMP_NEQ.rawValue)
            bytes(e, NFTNL_EXPR_CMP_DATA, data)
            return e
        case .ctState(let register):
            let e = make("ct")
            u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE.rawValue)
            u32(e, NFTNL_EXPR_CT_DREG, register)
            return e
        case .bitwise(let register, let mask):
            let e = make("bitwise")
            u32(e, NFTNL_EXPR_BITWISE_SREG, register)
            u32(e, NFTNL_EXPR_BITWISE_DREG, register)
            u32(e, NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
            bytes(e, NFTNL_EXPR_BITWISE_MASK, mask)
            bytes(e, NFTNL_EXPR_BITWISE_XOR, [UInt8](repeating: 0, count: mask.count))
            return e
        case .lookup(let setName, let setID, let register):
            let e = make("lookup")
            u32(e, NFTNL_EXPR_LOOKUP_SREG, register)
            nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOOKUP_SET), setName)
            u32(e, NFTNL_EXPR_LOOKUP_SET_ID, setID)
            return e
        case .immediate(let register, let data):
            let e = make("immediate")
            u32(e, NFTNL_EXPR_IMM_DREG, register)
            bytes(e, NFTNL_EXPR_IMM_DATA, data)
            return e
        case .verdict(let verdict):
            let e = make("immediate")
            u32(e, NFTNL_EXPR_IMM_DREG, UInt32(NFT_REG_VERDICT.rawValue))
            let code: Int32 = switch verdict {
            case .accept: NF_ACCEPT
            case .drop: NF_DROP
            case .return: NFT_RETURN.rawValue
            }
            u32(e, NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: code))
            return e
        case .dnat(let family, let addressRegister, let portRegister):
            let e = make("nat")
            u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT.rawValue)
            u32(e, NFTNL_EXPR_NAT_FAMILY, UInt32(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6))
            u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, addressRegister)
            u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, portRegister)
            u32(e, NFTNL_EXPR_NAT_FLAGS, UInt32(NF_NAT_RANGE_PROTO_SPECIFIED))
            return e
        case .rejectTCPReset:
            let e = make("reject")
            u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST.rawValue)
            nftnl_expr_set_u8(e, UInt16(NFTNL_EXPR_REJECT_CODE), 0)
            return e
        case .rejectAdminProhibited:
            let e = make("reject")
            u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH.rawValue)
            nftnl_expr_set_u8(e, UInt16(NFTNL_EXPR_REJECT_CODE), UInt8(NFT_REJECT_ICMPX_ADMIN_PROHIBITED.rawValue))
            return e
        }
    }
}
