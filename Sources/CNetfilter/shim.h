// libnftnl + libmnl as Swift sees them. netinet/in.h must come before the
// linux netlink headers, else "'in_addr' has different definitions".
#ifndef PORTALD_CNETFILTER_SHIM_H
#define PORTALD_CNETFILTER_SHIM_H
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/gen.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>

/// MNL_SOCKET_BUFFER_SIZE is a function-like macro; Swift cannot import it.
static inline size_t portald_mnl_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }

/// Fields of a netlink reply header (struct nlmsghdr), read without Swift touching the layout.
static inline uint16_t portald_nlmsg_type(const void *buf) { return ((const struct nlmsghdr *) buf)->nlmsg_type; }
static inline uint32_t portald_nlmsg_seq(const void *buf) { return ((const struct nlmsghdr *) buf)->nlmsg_seq; }
/// The errno carried by an NLMSG_ERROR message (0 is an ACK).
static inline int portald_nlmsg_error(const void *buf) {
    const struct nlmsgerr *err = mnl_nlmsg_get_payload((const struct nlmsghdr *) buf);
    return err->error;
}
#endif
