package dev.epidemic.cli.daemon;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the daemon's YAML file: syntax, then {@code ${ENV}} substitution in values, then binding to
 * {@link DaemonConfig}. Every unknown key is reported with its path, not only the first; binding then
 * skips them (FAIL_ON_UNKNOWN_PROPERTIES stays on as a safety net).
 *
 * <p>Variables are substituted in the parsed values rather than in the text, so that a password with
 * YAML's special characters stays one string and cannot change the file's structure.
 */
public final class ConfigLoader {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private ConfigLoader() {
    }

    /**
     * A configuration as read, and the problems found while reading it that did not stop the reading
     * (unknown keys, unset variables), for the planner to report with its own.
     */
    public record Loaded(DaemonConfig config, List<String> problems) {
    }

    /**
     * The configuration in {@code file}, with {@code ${NAME}} taken from {@code environment}.
     *
     * @throws InvalidConfigException when the file cannot be read as a configuration at all
     */
    public static Loaded load(Path file, Map<String, String> environment) {
        Problems problems = new Problems();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            problems.add("", "no such file");
            throw new InvalidConfigException(problems.lines());
        } catch (IOException e) {
            problems.add("", "cannot read the file: " + e.getMessage());
            throw new InvalidConfigException(problems.lines());
        }
        return parse(text, environment);
    }

    /** As {@link #load}, from the file's text. */
    public static Loaded parse(String text, Map<String, String> environment) {
        Problems problems = new Problems();
        YAMLMapper mapper = mapper();
        JsonNode tree;
        try {
            tree = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            problems.add("", syntaxError(e));
            throw new InvalidConfigException(problems.lines());
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            problems.add("", "the file is empty; it needs at least database and consumers");
            throw new InvalidConfigException(problems.lines());
        }
        if (!tree.isObject()) {
            problems.add("", "expected a mapping with the keys database, plugins and consumers");
            throw new InvalidConfigException(problems.lines());
        }
        KnownKeys.check(tree, DaemonConfig.class, "", problems);
        JsonNode substituted = substitute(tree, "", environment, problems);
        try {
            return new Loaded(mapper.treeToValue(substituted, DaemonConfig.class), problems.lines());
        } catch (JsonMappingException e) {
            problems.add(pathOf(e), typeError(e));
        } catch (JsonProcessingException e) {
            problems.add("", e.getOriginalMessage());
        }
        throw new InvalidConfigException(problems.lines());
    }

    private static YAMLMapper mapper() {
        return YAMLMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .addHandler(new SkipUnknownKeys())
                .build();
    }

    /** Skips unknown keys, which {@link KnownKeys} reported with their paths, so that binding goes on. */
    private static final class SkipUnknownKeys extends DeserializationProblemHandler {
        @Override
        public boolean handleUnknownProperty(DeserializationContext context, JsonParser parser, JsonDeserializer<?> deserializer,
                                             Object beanOrClass, String propertyName) throws IOException {
            parser.skipChildren();
            return true;
        }
    }

    private static JsonNode substitute(JsonNode node, String path, Map<String, String> environment, Problems problems) {
        if (node.isTextual()) {
            return TextNode.valueOf(expand(node.textValue(), path, environment, problems));
        }
        if (node.isObject()) {
            ObjectNode copy = ((ObjectNode) node).objectNode();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                copy.set(field.getKey(), substitute(field.getValue(), Problems.join(path, field.getKey()), environment, problems));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = ((ArrayNode) node).arrayNode();
            for (int i = 0; i < node.size(); i++) {
                copy.add(substitute(node.get(i), path + "[" + i + "]", environment, problems));
            }
            return copy;
        }
        return node;
    }

    /** {@code ${NAME}} is the variable's value, {@code ${NAME:-default}} falls back to the default. */
    private static String expand(String value, String path, Map<String, String> environment, Problems problems) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder result = new StringBuilder();
        while (m.find()) {
            String replacement = environment.get(m.group(1));
            if (replacement == null) {
                replacement = m.group(2);
            }
            if (replacement == null) {
                problems.add(path, "environment variable " + m.group(1) + " is not set");
                replacement = "";
            }
            m.appendReplacement(result, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(result);
        return result.toString();
    }

    private static String syntaxError(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        // SnakeYAML's message repeats the location and quotes the text around it: keep its first line.
        String first = message == null ? "invalid YAML" : message.lines().findFirst().orElse("invalid YAML").strip();
        JsonLocation location = e.getLocation();
        String where = location == null || location.getLineNr() < 1 ? "" : "line " + location.getLineNr() + ": ";
        return where + "invalid YAML: " + first;
    }

    private static String pathOf(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : e.getPath()) {
            if (reference.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static String typeError(JsonMappingException e) {
        if (e instanceof InvalidFormatException invalid) {
            return "expected " + describe(invalid.getTargetType()) + ", not '" + invalid.getValue() + "'";
        }
        if (e instanceof MismatchedInputException mismatched && mismatched.getTargetType() != null) {
            return "expected " + describe(mismatched.getTargetType());
        }
        String message = e.getOriginalMessage();
        return message == null ? "invalid value" : message.lines().findFirst().orElse("invalid value");
    }

    private static String describe(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class) {
            return "a whole number";
        }
        if (type == String.class) {
            return "a single value";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "a mapping of keys to values";
    }
}
