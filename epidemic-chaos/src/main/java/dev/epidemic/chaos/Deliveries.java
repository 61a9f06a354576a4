package dev.epidemic.chaos;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Times recovery from a kill -9 with the consumer's own files: recovery ends with the first change the
 * new consumer JVM delivers. That is when it delivers again, however far behind the writers it may be
 * (lag is measured separately, per transaction).
 */
final class Deliveries {
    private final ConsumerProcess consumer;

    /** Where the consumer's output ended when a fault was injected. */
    record Mark(int file, long offset) {
    }

    Deliveries(ConsumerProcess consumer) {
        this.consumer = consumer;
    }

    /** The start of the newest consumer instance's file. */
    Mark newest() {
        return new Mark(consumer.files().size() - 1, 0);
    }

    /** The receive time of the first change delivered after {@code faultMillis}, waiting up to {@code timeout}; -1 if none came. */
    long awaitFirstAfter(Mark mark, long faultMillis, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int file = mark.file();
        long offset = mark.offset();
        while (System.nanoTime() < deadline) {
            List<Path> files = consumer.files();
            Path path = files.get(file);
            long[] scan = scan(path, offset, faultMillis);
            if (scan[1] >= 0) {
                return scan[1];
            }
            offset = scan[0];
            if (file + 1 < files.size() && offset >= size(path)) {
                file++; // that instance was killed; its successor writes the next file
                offset = 0;
                continue;
            }
            Thread.sleep(10);
        }
        return -1;
    }

    /** Reads complete lines from {@code offset}: returns the offset after them and the first receive time after the fault, or -1. */
    private static long[] scan(Path path, long offset, long faultMillis) {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
            long length = f.length();
            while (offset < length) {
                int size = (int) Math.min(1 << 20, length - offset);
                byte[] bytes = new byte[size];
                f.seek(offset);
                f.readFully(bytes);
                String text = new String(bytes, StandardCharsets.US_ASCII);
                int end = text.lastIndexOf('\n') + 1;
                if (end == 0) {
                    break; // an incomplete line: wait for the rest
                }
                int start = 0;
                while (start < end) {
                    int nl = text.indexOf('\n', start);
                    String line = text.substring(start, nl);
                    int tab = line.lastIndexOf('\t');
                    if (tab > 0) {
                        long received = Long.parseLong(line.substring(tab + 1));
                        if (received > faultMillis) {
                            return new long[] {offset + nl + 1, received};
                        }
                    }
                    start = nl + 1;
                }
                offset += end;
            }
            return new long[] {offset, -1};
        } catch (IOException | NumberFormatException e) {
            return new long[] {offset, -1};
        }
    }

    private static long size(Path path) {
        try {
            return Files.exists(path) ? Files.size(path) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
