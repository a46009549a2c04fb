127.0.0.1:@HUNG_PORT@ /v1/kv/config/app/ -> no answer within 2000 ms
