// Small helpers for the parts of libmicrohttpd Swift cannot call: the variadic
// MHD_start_daemon (options go through MHD_OPTION_ARRAY) and the union returned
// by MHD_get_connection_info.
#ifndef PORTALD_CMICROHTTPD_SHIM_H
#define PORTALD_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>

typedef void *(*portald_mhd_uri_logger)(void *cls, const char *uri, struct MHD_Connection *con);

/// Starts a daemon on an already bound and listening socket.
static inline struct MHD_Daemon *portald_mhd_start(
    unsigned int flags, int listen_fd, unsigned int thread_pool_size,
    unsigned int connection_timeout, unsigned int per_ip_limit, unsigned int connection_limit,
    MHD_AccessHandlerCallback handler, void *handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    portald_mhd_uri_logger uri_logger, void *uri_logger_cls,
    MHD_NotifyConnectionCallback notify_connection, void *notify_connection_cls,
    MHD_LogCallback error_log, void *error_log_cls)
{
    struct MHD_OptionItem ops[] = {
        // First, so that errors in the other options are logged too.
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) error_log, error_log_cls },
        { MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout, NULL },
        { MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_limit, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, connection_limit, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) completed, completed_cls },
        { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) uri_logger, uri_logger_cls },
        { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) notify_connection, notify_connection_cls },
        { thread_pool_size > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, thread_pool_size, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

/// The connection's socket, or -1.
static inline int portald_mhd_connection_fd(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

/// Writes the peer's address as text into `buf`; returns 0, or -1 when unknown.
static inline int portald_mhd_client_address(struct MHD_Connection *con, char *buf, socklen_t len)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return -1;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        return inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, len) ? 0 : -1;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) return inet_ntop(AF_INET, &a->s6_addr[12], buf, len) ? 0 : -1;
        return inet_ntop(AF_INET6, a, buf, len) ? 0 : -1;
    }
    return -1;
}
#endif
