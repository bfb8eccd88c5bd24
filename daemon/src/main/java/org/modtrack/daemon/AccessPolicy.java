package org.modtrack.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.net.UnixDomainPrincipal;
import org.modtrack.engine.journal.ConsumerState;

/**
 * Who may use the socket: root, the daemon's own user, and members of the configured group (the
 * peer's primary group from SO_PEERCRED, or a member listed by {@code getent group}). Supplementary
 * groups that {@code getent} does not list are not visible through SO_PEERCRED and do not count.
 */
final class AccessPolicy {
    private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
    private final UserPrincipal root;
    private final UserPrincipal self;
    private final String groupName;
    private final GroupPrincipal group;
    private volatile Set<String> members;
    private volatile long membersRead;

    AccessPolicy(String groupName) throws IOException {
        this.root = lookup.lookupPrincipalByName("root");
        // by uid: a user without a name (a container) still resolves
        this.self = lookup.lookupPrincipalByName(Long.toString(new com.sun.security.auth.module.UnixSystem().getUid()));
        this.groupName = groupName;
        if (groupName == null) {
            this.group = null;
            this.members = Set.of();
        } else {
            try {
                this.group = lookup.lookupPrincipalByGroupName(groupName);
            } catch (UserPrincipalNotFoundException e) {
                throw new IllegalArgumentException("there is no group '" + groupName + "' on this system; create it"
                        + " (groupadd " + groupName + ") or name another with --group.", e);
            }
            this.members = readMembers(groupName);
            this.membersRead = System.nanoTime();
        }
    }

    /** The group that owns the socket, or null. */
    GroupPrincipal group() {
        return group;
    }

    /** Whether the peer may use the socket at all. */
    boolean allows(UnixDomainPrincipal peer) {
        if (isPrivileged(peer) || group != null && group.equals(peer.group())) {
            return true;
        }
        if (group == null) {
            return false;
        }
        if (System.nanoTime() - membersRead > REFRESH_NANOS) {
            members = readMembers(groupName);
            membersRead = System.nanoTime();
        }
        return members.contains(peer.user().getName());
    }

    /** Root or the daemon's own user: may also stop the daemon. */
    boolean isPrivileged(UnixDomainPrincipal peer) {
        return root.equals(peer.user()) || self.equals(peer.user());
    }

    /**
     * Whether the peer may query, bless or watch as consumer {@code c}, or remove it: root and the
     * daemon's user may act as any; others as a consumer without an owner, or whose owner they are
     * (its user, or a member of its group as {@link #allows} counts members).
     */
    boolean mayActAs(UnixDomainPrincipal peer, ConsumerState c) {
        if (isPrivileged(peer) || c.ownerUid() < 0 && c.ownerGid() < 0) {
            return true;
        }
        try {
            if (c.ownerUid() >= 0 && lookup.lookupPrincipalByName(Integer.toString(c.ownerUid())).equals(peer.user())) {
                return true;
            }
            if (c.ownerGid() >= 0) {
                GroupPrincipal owners = lookup.lookupPrincipalByGroupName(Integer.toString(c.ownerGid()));
                return owners.equals(peer.group()) || readMembers(owners.getName()).contains(peer.user().getName());
            }
        } catch (IOException e) {
            return false; // an owner this system no longer knows: only root and the daemon's user
        }
        return false;
    }

    /** Why a peer may not act as consumer {@code c}, in one sentence. */
    static String consumerRefusal(UnixDomainPrincipal peer, ConsumerState c) {
        return "user " + peer.user().getName() + " may not act as consumer " + c.name() + ": only root, the daemon's user"
                + (c.ownerUid() >= 0 ? ", uid " + c.ownerUid() : "") + (c.ownerGid() >= 0 ? ", members of gid " + c.ownerGid() : "")
                + " may.";
    }

    /** The uid of user {@code name} (a name or a number), or -1 if this system has no such user. */
    static int uidOf(String name) {
        return idOf("passwd", name);
    }

    /** The gid of group {@code name} (a name or a number), or -1 if this system has no such group. */
    static int gidOf(String name) {
        return idOf("group", name);
    }

    /** The third field of {@code getent DATABASE KEY} (the id in passwd and group), or -1. */
    private static int idOf(String database, String key) {
        String[] fields = getent(database, key);
        try {
            return fields.length < 3 ? -1 : Integer.parseInt(fields[2]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Why a peer was refused, in one sentence. */
    String refusal(UnixDomainPrincipal peer) {
        return "user " + peer.user().getName() + " may not use this modtrack daemon: only root"
                + (group == null ? "" : " and members of group " + groupName) + " may.";
    }

    /** The user names {@code getent group NAME} lists (empty if it cannot be run). */
    private static Set<String> readMembers(String groupName) {
        String[] fields = getent("group", groupName);
        if (fields.length < 4 || fields[3].isBlank()) {
            return Set.of();
        }
        return List.of(fields[3].split(",")).stream().map(String::strip).collect(Collectors.toUnmodifiableSet());
    }

    /** The ':'-separated fields of the first line {@code getent DATABASE KEY} prints; none if it cannot be run or finds nothing. */
    private static String[] getent(String database, String key) {
        try {
            Process p = new ProcessBuilder("getent", database, key).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return new String[0];
            }
            return out.lines().findFirst().orElse("").split(":", -1);
        } catch (IOException e) {
            return new String[0];
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new String[0];
        }
    }
}
