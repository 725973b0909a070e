/* Written by make_seeds.mjs: the public keys the seed tokens are signed for. */
#ifndef TESSERA_FUZZ_KEYS_H
#define TESSERA_FUZZ_KEYS_H
#define FUZZ_NOW 1700000000
#define FUZZ_ISSUER "https://as.example.com"
#define FUZZ_JWK_ES256 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fuzz-es\",\"alg\":\"ES256\",\"use\":\"sig\",\"x\":\"50tS27qckxWW8Y6JgYjD_qZf3BGgOIVroOeTtJrTQiM\",\"y\":\"BRWM36wCOhpCvjKjSp6AMpf2eRw7FVXsU4nKBODdWNo\"}"
#define FUZZ_JWK_RS256 "{\"kty\":\"RSA\",\"kid\":\"fuzz-rs\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"61mvvMNL0X6KvD39OG6P-Fpr2GkUSSrCnYKfwpYl4lVuWcBhEmcjb3Y9Efqi8fFqG0ZkUJjDE2CCGLQ6MQI0aJii9zO_xV_ueZorj7QaIkcynmod4SP0cqHQRCaut9ZvECnq1veGMfwjGKtTmKmaiY0K3ymTeLPUW5HFWfO6EePXG28OzAoYEAIlY0LOUVQR2twpJUrSlurKpLCJEtI3KrO-0hxr9RSRvuMgI1LHLFZG5XzP8qxWiRvL1HFtSaIbHKNPMEtP0wZQ9bgA9NevlwqQAbUBhGzrlm5BmePqPsteKCCd7G4pyEgQe7fhSYcHT9H12qfMhAu1WRKPUdVTDQ\",\"e\":\"AQAB\"}"
#endif
