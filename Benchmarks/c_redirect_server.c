/* The baseline for portald's redirect benchmark: the least a C program on
 * libmicrohttpd can do to answer a captured request with a 302 to the portal
 * (same threading mode and keep-alive handling as portald). Not part of the product. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **state) {
    static int first;
    if (*state == NULL) { *state = &first; return MHD_YES; }   /* answer on the second call: keep-alive */
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char location[2048];
    snprintf(location, sizeof location, "http://127.0.0.1:8080/?url=http%%3A%%2F%%2F%s%s", host ? host : "", url);
    const char *body = "<a href=\"/\">Continue</a>\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Location", location);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, 302, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 9080;
    unsigned int threads = argc > 2 ? (unsigned) atoi(argv[2]) : 2;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, port, NULL, NULL,
                                            handler, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
                                            MHD_OPTION_CONNECTION_LIMIT, 4096, MHD_OPTION_END);
    if (!d) { perror("MHD_start_daemon"); return 1; }
    sigset_t set; sigemptyset(&set); sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig; sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
