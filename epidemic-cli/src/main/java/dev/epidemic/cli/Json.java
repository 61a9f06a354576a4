package dev.epidemic.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.EpidemicException;

/** Renders the --json outputs. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new EpidemicException("cannot render the output as JSON: " + e.getOriginalMessage(), e);
        }
    }
}
