package dev.epidemic.sink.nats.internal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The waits between attempts at a broker that is away: 100 ms, doubling up to 10 s. One per batch, so that a
 * new batch starts with short waits again. A wait ends early, with {@link InterruptedException}, when the
 * thread is interrupted or the sink is closed: the engine is stopping, and the batch stays unacknowledged.
 */
public final class Backoff {
    static final long FIRST_MILLIS = 100;
    static final long MAX_MILLIS = 10_000;

    private final CountDownLatch closed;
    private long nextMillis = FIRST_MILLIS;
    private int attempts;

    public Backoff(CountDownLatch closed) {
        this.closed = closed;
    }

    /** How long the next {@link #pause()} waits. */
    public long nextMillis() {
        return nextMillis;
    }

    /** The attempts that failed so far. */
    public int attempts() {
        return attempts;
    }

    /** Counts a failed attempt and waits before the next one. */
    public void pause() throws InterruptedException {
        attempts++;
        long wait = nextMillis;
        nextMillis = Math.min(MAX_MILLIS, nextMillis * 2);
        if (closed.await(wait, TimeUnit.MILLISECONDS)) {
            throw new InterruptedException("the NATS sink was closed");
        }
    }
}
