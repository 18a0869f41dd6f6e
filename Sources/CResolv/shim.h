// glibc's stub resolver (libresolv), for the walled garden's host names: unlike
// getaddrinfo it gives each answer's TTL.
#ifndef PORTALD_CRESOLV_SHIM_H
#define PORTALD_CRESOLV_SHIM_H
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

/// res_query for class IN; `res_query` is a macro in glibc's header.
static inline int portald_res_query(const char *name, int type, unsigned char *answer, int length) {
    return res_query(name, C_IN, type, answer, length);
}

/// Why the last query failed (h_errno is a macro over a thread-local).
static inline int portald_h_errno(void) { return h_errno; }
#endif
