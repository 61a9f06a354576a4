package dev.epidemic.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a comma-separated list of column names. A comma inside double quotes belongs to the name, and
 * the quotes are kept, so that the core can tell an exact (quoted) name from one PostgreSQL would fold.
 */
final class Names {
    private Names() {
    }

    /** Every name of every value, in order; an empty element is kept (as "") for the core to reject. */
    static List<String> split(List<String> values) {
        List<String> names = new ArrayList<>();
        for (String value : values) {
            if (value.isBlank()) {
                continue;
            }
            StringBuilder current = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < value.length(); i++) {
                char ch = value.charAt(i);
                if (ch == '"') {
                    quoted = !quoted; // an escaped quote ("") toggles twice
                    current.append(ch);
                } else if (ch == ',' && !quoted) {
                    names.add(current.toString().strip());
                    current.setLength(0);
                } else {
                    current.append(ch);
                }
            }
            names.add(current.toString().strip());
        }
        return names;
    }
}
