package org.modtrack.daemon;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Structured logs: one logfmt line per event on stderr ({@code time=... level=... logger=...
 * msg="..."}), which journald and log shippers parse; the messages carry their own key=value pairs.
 */
public final class LogFormat extends Formatter {
    /** Sends every INFO and above of the process to stderr in this format. */
    public static void install() {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler h = new ConsoleHandler();
        h.setFormatter(new LogFormat());
        h.setLevel(Level.INFO);
        root.addHandler(h);
        root.setLevel(Level.INFO);
    }

    @Override
    public String format(LogRecord r) {
        StringBuilder b = new StringBuilder(128);
        b.append("time=").append(Instant.ofEpochMilli(r.getMillis()));
        b.append(" level=").append(r.getLevel().getName());
        String logger = r.getLoggerName() == null ? "" : r.getLoggerName();
        b.append(" logger=").append(logger.substring(logger.lastIndexOf('.') + 1));
        b.append(" msg=").append(quote(formatMessage(r)));
        if (r.getThrown() != null) {
            b.append(" error=").append(quote(String.valueOf(r.getThrown())));
        }
        return b.append('\n').toString();
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
