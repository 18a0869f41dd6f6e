internal import CNetfilter
import Glibc

/// The nf_tables messages a `NetfilterSocket` sends, built with libnftnl: tables, sets,
/// chains, rules and their expressions, set elements. The second of the two files that
/// face libnftnl and libmnl; `Netfilter.swift` holds the socket and its exchanges.
extension NetfilterSocket {
    static let family = UInt32(NFPROTO_INET)

    static func header(_ buffer: UnsafeMutablePointer<CChar>, _ type: nf_tables_msg_types, flags: Int32, _ sequence: UInt32) -> UnsafeMutablePointer<nlmsghdr> {
        nftnl_nlmsg_build_hdr(buffer, UInt16(type.rawValue), UInt16(family), UInt16(flags | NLM_F_ACK), sequence)
    }

    static func encode(_ message: NetfilterMessage, into buffer: UnsafeMutablePointer<CChar>, sequence: UInt32) throws -> UnsafeMutablePointer<nlmsghdr> {
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

    static func setObject(table: String, name: String) -> OpaquePointer {
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
