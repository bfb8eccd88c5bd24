/**
 * The Kafka Connect source connector: {@link org.modtrack.consumer.kafka.ModtrackSourceConnector}
 * and its task, which queries the daemon as a named consumer, spools each result to a file, sends
 * its changes as records, and blesses it once Kafka acknowledged all of them (docs/kafka.md).
 */
package org.modtrack.consumer.kafka;
