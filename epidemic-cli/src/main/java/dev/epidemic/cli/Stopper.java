package dev.epidemic.cli;

import dev.epidemic.api.Epidemic;

/**
 * Stops the engine on request from a handler, a signal or the idle watch, even when the request comes
 * before the engine exists.
 */
final class Stopper {
    private volatile Epidemic engine;
    private volatile boolean requested;

    void attach(Epidemic engine) {
        this.engine = engine;
        if (requested) {
            engine.close();
        }
    }

    /**
     * Asks the engine to stop after the change in hand. From a handler it returns at once and no further
     * change is handed over; from another thread it waits until the engine has stored its position.
     */
    void requestStop() {
        requested = true;
        Epidemic target = engine;
        if (target != null) {
            target.close();
        }
    }
}
