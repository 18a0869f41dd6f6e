// libcrypto: SHA-256, HMAC and the CSPRNG. No hand-written crypto in portald.
#ifndef PORTALD_COPENSSL_SHIM_H
#define PORTALD_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// OpenSSL 3's one-shot HMAC() fetches HMAC and SHA-256 by name on every call (tens of
// microseconds under load). A context made once per key and duplicated per message
// does that once.

// An HMAC-SHA256 context with `key` set; NULL on failure. Never freed by portald's
// cache (a few keys for the process's life).
static inline EVP_MAC_CTX *portald_hmac_sha256_prepare(const unsigned char *key, size_t key_length) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    if (context == NULL) return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end() };
    if (!EVP_MAC_init(context, key, key_length, params)) {
        EVP_MAC_CTX_free(context);
        return NULL;
    }
    return context;
}

// The HMAC of `message` under a prepared context (only read: one may serve many threads),
// into `out` (32 bytes). 1 on success.
static inline int portald_hmac_sha256_with(const EVP_MAC_CTX *prepared, const unsigned char *message, size_t length, unsigned char *out) {
    EVP_MAC_CTX *context = EVP_MAC_CTX_dup(prepared);
    if (context == NULL) return 0;
    size_t written = 0;
    int ok = EVP_MAC_update(context, message, length) && EVP_MAC_final(context, out, &written, 32) && written == 32;
    EVP_MAC_CTX_free(context);
    return ok;
}
#endif
