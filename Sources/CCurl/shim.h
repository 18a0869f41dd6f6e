// libcurl as Swift sees it. curl_easy_setopt/getinfo and curl_multi_setopt are
// variadic, and CURLMsg holds a union: typed wrappers.
#ifndef PORTALD_CCURL_SHIM_H
#define PORTALD_CCURL_SHIM_H
#include <stdint.h>
#include <stddef.h>
#include <curl/curl.h>

static inline CURLcode portald_curl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode portald_curl_setopt_ptr(CURL *c, CURLoption o, const void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode portald_curl_setopt_off(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }
static inline CURLMcode portald_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

static inline long portald_curl_response_code(CURL *c) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/// The response body is not needed: count it and drop it.
static inline size_t portald_curl_discard(char *data, size_t size, size_t count, void *user) {
    (void) data; (void) user;
    return size * count;
}

/// Sets the write callback above (a function pointer through the variadic setopt).
static inline void portald_curl_discard_body(CURL *c) {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, portald_curl_discard);
}

/// A finished transfer from curl_multi_info_read: its handle and result, or 0 when none is left.
static inline int portald_curl_multi_next_done(CURLM *m, CURL **easy, CURLcode *result) {
    int left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            *easy = msg->easy_handle;
            *result = msg->data.result;
            return 1;
        }
    }
    return 0;
}
#endif
