package dev.epidemic.testing;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;

import java.util.ArrayList;
import java.util.List;

/** A handler that remembers every change it was handed, in order. */
public final class Collector implements ChangeHandler {
    private final List<Change> changes = new ArrayList<>();

    @Override
    public synchronized void onInsert(Change change) {
        changes.add(change);
    }

    @Override
    public synchronized void onUpdate(Change change) {
        changes.add(change);
    }

    @Override
    public synchronized void onDelete(Change change) {
        changes.add(change);
    }

    @Override
    public synchronized void onTruncate(Change change) {
        changes.add(change);
    }

    public synchronized List<Change> changes() {
        return List.copyOf(changes);
    }

    public synchronized int size() {
        return changes.size();
    }
}
