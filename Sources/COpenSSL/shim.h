// libcrypto: SHA-256, HMAC and the CSPRNG. No hand-written crypto in portald.
#ifndef PORTALD_COPENSSL_SHIM_H
#define PORTALD_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#endif
