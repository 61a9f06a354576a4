package dev.epidemic.format;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.epidemic.api.EpidemicException;

/** The JSON writer every format shares: numbers as the change holds them, never in exponent notation. */
final class Jsons {
    static final ObjectMapper MAPPER = JsonMapper.builder().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN).build();

    private Jsons() {
    }

    static String write(Object value, long changeId) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new EpidemicException("cannot render change " + changeId + " as JSON: " + e.getOriginalMessage(), e);
        }
    }
}
