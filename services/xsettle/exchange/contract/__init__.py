"""The wire contract: topics, Avro codecs and registry, records, inbound events, dead letters."""
