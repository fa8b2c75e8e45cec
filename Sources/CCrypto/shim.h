#ifndef HERALD_CCRYPTO_SHIM_H
#define HERALD_CCRYPTO_SHIM_H

// OpenSSL 3 (Debian 12's libssl-dev): HMAC, SHA-256, Ed25519 and the CSPRNG.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/err.h>

// EVP_PKEY_ED25519 is a macro of a macro; Swift does not import it reliably.
static inline int CCrypto_ed25519KeyType(void) { return EVP_PKEY_ED25519; }

#endif
