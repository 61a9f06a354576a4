package dev.epidemic.cli.daemon;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.TransactionalHandler;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Finds and instantiates the handler classes the configuration names: from the daemon's own class path
 * or from the jars in the plugins directory. A class whose constructor takes {@code Map<String, String>}
 * receives the configured properties; otherwise its public no-argument constructor is used.
 */
final class HandlerClasses {
    private final ClassLoader loader;
    private final String where;

    private HandlerClasses(ClassLoader loader, String where) {
        this.loader = loader;
        this.where = where;
    }

    /** Classes from the class path only. */
    static HandlerClasses classPath() {
        return new HandlerClasses(HandlerClasses.class.getClassLoader(), "on the class path");
    }

    /** Classes from the class path and every {@code *.jar} directly in {@code directory}. */
    static HandlerClasses withPlugins(Path directory) throws IOException {
        List<URL> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path jar : files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f)).sorted().toList()) {
                jars.add(toUrl(jar));
            }
        }
        ClassLoader loader = new URLClassLoader("epidemic-plugins", jars.toArray(URL[]::new), HandlerClasses.class.getClassLoader());
        return new HandlerClasses(loader, "on the class path or in the " + jars.size() + " jar(s) in " + directory);
    }

    private static URL toUrl(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalStateException("a file path is always a valid URL: " + jar, e);
        }
    }

    /** A handler made from its class, or the reason it cannot be, as one line. */
    record Made(DaemonPlan.Kind kind, Object handler, String problem) {
    }

    Made make(String className, Map<String, String> properties) {
        Class<?> type;
        try {
            type = Class.forName(className.strip(), false, loader);
        } catch (ClassNotFoundException e) {
            return problem("class " + className + " not found " + where);
        } catch (LinkageError e) {
            return problem("class " + className + " cannot be loaded: " + e);
        }
        DaemonPlan.Kind kind;
        if (TransactionalHandler.class.isAssignableFrom(type)) {
            kind = DaemonPlan.Kind.TRANSACTIONAL;
        } else if (BatchHandler.class.isAssignableFrom(type)) {
            kind = DaemonPlan.Kind.BATCH;
        } else if (ChangeHandler.class.isAssignableFrom(type)) {
            kind = DaemonPlan.Kind.CHANGE;
        } else {
            return problem("class " + className + " is not a handler: it implements none of ChangeHandler, BatchHandler and TransactionalHandler (dev.epidemic.api)");
        }
        if (type.isInterface() || Modifier.isAbstract(type.getModifiers()) || !Modifier.isPublic(type.getModifiers())) {
            return problem("class " + className + " cannot be instantiated: it must be a public, non-abstract class");
        }
        try {
            Object handler = construct(type, properties);
            return handler == null
                    ? problem("class " + className + " has no public constructor taking Map<String, String>, so it cannot receive properties; remove them or add that constructor")
                    : new Made(kind, handler, null);
        } catch (NoSuchMethodException e) {
            return problem("class " + className + " has neither a public (Map<String, String>) nor a public no-argument constructor");
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return problem("constructor of " + className + " failed: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return problem("class " + className + " cannot be instantiated: " + e);
        }
    }

    /** Null when properties were given but only a no-argument constructor exists. */
    private static Object construct(Class<?> type, Map<String, String> properties) throws ReflectiveOperationException {
        for (Constructor<?> constructor : type.getConstructors()) {
            Class<?>[] parameters = constructor.getParameterTypes();
            if (parameters.length == 1 && parameters[0].isAssignableFrom(Map.class)) {
                return constructor.newInstance(Map.copyOf(properties));
            }
        }
        if (!properties.isEmpty()) {
            type.getConstructor(); // a class without any usable constructor is reported as such first
            return null;
        }
        return type.getConstructor().newInstance();
    }

    private static Made problem(String message) {
        return new Made(null, null, message);
    }
}
