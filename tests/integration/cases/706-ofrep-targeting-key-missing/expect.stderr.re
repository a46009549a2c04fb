^envinject: ofrep \(http://127\.0\.0\.1:[0-9]+\): the server refused the context: TARGETING_KEY_MISSING: targetingKey is required \(HTTP 400\)$
