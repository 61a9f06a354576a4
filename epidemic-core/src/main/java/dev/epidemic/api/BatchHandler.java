package dev.epidemic.api;

import java.util.List;

/**
 * Receives a table's changes a batch at a time (at most the consumer's batch size, in delivery order),
 * as a sink that forwards them elsewhere does. A batch that throws is retried whole; when its attempts
 * are exhausted every change in it becomes a dead letter.
 */
@FunctionalInterface
public interface BatchHandler {
    void handle(List<Change> changes) throws Exception;
}
