package dev.epidemic.sink.nats.internal;

import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The configured stream, checked before the first message to each subject: it exists (or is created, when
 * allowed, over the template's subjects) and one of its subjects takes the subject. A subject that passed is
 * not checked again; a stream that is later deleted makes publishing fail with 503, a refusal too.
 */
public final class StreamBinding {
    private static final Logger log = LoggerFactory.getLogger(StreamBinding.class);
    private static final int STREAM_NOT_FOUND = 10059;
    private static final int STREAM_NAME_IN_USE = 10058;

    private final String stream;
    private final boolean create;
    private final String createSubjects;
    private final Set<String> bound = ConcurrentHashMap.newKeySet();

    /**
     * @param createSubjects the subject filter a created stream takes; null when the sink may not create it
     */
    public StreamBinding(String stream, String createSubjects) {
        this.stream = stream;
        this.create = createSubjects != null;
        this.createSubjects = createSubjects;
    }

    public String stream() {
        return stream;
    }

    /** Whether {@code subject} passed {@link #check} already. */
    public boolean isBound(String subject) {
        return bound.contains(subject);
    }

    /**
     * Checks that the stream takes {@code subject}.
     *
     * @throws Refused     no such stream (and no creating it), or it does not take the subject
     * @throws IOException the server could not be asked now
     */
    public void check(JetStreamManagement management, String subject) throws Refused, IOException {
        if (bound.contains(subject)) {
            return;
        }
        List<String> subjects = subjectsOf(management);
        if (subjects.stream().noneMatch(filter -> SubjectTemplate.matches(filter, subject))) {
            throw new Refused("stream " + stream + " does not take subject " + subject + " (its subjects: "
                    + String.join(", ", subjects) + "); add it to the stream or change the subject template");
        }
        bound.add(subject);
    }

    private List<String> subjectsOf(JetStreamManagement management) throws Refused, IOException {
        try {
            return info(management).getConfiguration().getSubjects();
        } catch (JetStreamApiException e) {
            throw new Refused("cannot use stream " + stream + ": " + e.getMessage());
        }
    }

    private StreamInfo info(JetStreamManagement management) throws Refused, IOException, JetStreamApiException {
        try {
            return management.getStreamInfo(stream);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != STREAM_NOT_FOUND) {
                throw e;
            }
            if (!create) {
                throw new Refused("stream " + stream + " does not exist; create it, or set create-stream: true");
            }
        }
        try {
            StreamInfo created = management.addStream(StreamConfiguration.builder().name(stream).subjects(createSubjects).build());
            log.info("NATS sink created stream {} for subjects {}", stream, createSubjects);
            return created;
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != STREAM_NAME_IN_USE) {
                throw e;
            }
            return management.getStreamInfo(stream); // another sink created it a moment ago
        }
    }
}
