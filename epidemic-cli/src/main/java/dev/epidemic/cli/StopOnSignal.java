package dev.epidemic.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns SIGTERM and SIGINT into a clean stop while installed: the engine stores its position and the
 * command exits 0. A shutdown hook could not do this: the JVM's exit code after a signal is 128 + signal.
 */
final class StopOnSignal implements AutoCloseable {
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private StopOnSignal() {
    }

    static StopOnSignal install(Runnable stop) {
        StopOnSignal installed = new StopOnSignal();
        for (String name : List.of("TERM", "INT")) {
            try {
                Signal signal = new Signal(name);
                installed.previous.put(signal, Signal.handle(signal, received -> stop.run()));
            } catch (IllegalArgumentException reserved) {
                // The JVM keeps this signal (e.g. under -Xrs): it then ends the process as it would anyway.
            }
        }
        return installed;
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
