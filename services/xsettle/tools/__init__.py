"""Console tools: the exchange's topics from a terminal, as Kafka's console tools do.

``xsettle submit`` publishes a file of claims, ``xsettle results`` reads the result (or
dead-letter) topic as JSON Lines, ``xsettle dead-letters list|replay`` inspects dead
letters and puts them back after a fix. Each is a plain Kafka client of the public
topics: no consumer group, nothing committed, so they never disturb the services.
"""
