package org.modtrack.source.linux;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;

/** A {@link Namespace} over a {@link ModelTree}: objects are found by identity, as the kernel finds them by handle. */
final class ModelNamespace implements Namespace {
    private final ModelTree fs;
    private final String mount;
    private MountAliases.Table mounts = MountAliases.Table.NONE;

    ModelNamespace(ModelTree fs, String mount) {
        this.fs = fs;
        this.mount = mount;
    }

    /** The handle identity of object {@code id}, with {@code path} as its hint. */
    static FileId id(int id, String path) {
        return FileId.ofHandle(7, 1, ByteBuffer.allocate(4).putInt(id).array(), path, null);
    }

    static int idOf(FileId file) {
        return ByteBuffer.wrap(file.handle()).getInt();
    }

    @Override
    public Where locate(ChangedFile c) {
        int id = idOf(c.file());
        String found = null;
        ModelTree.Node node = null;
        int links = 0;
        for (Map.Entry<String, ModelTree.Node> e : fs.byPath.entrySet()) {
            if (e.getValue().id() == id) {
                links++;
                if (found == null) {
                    found = e.getKey();
                    node = e.getValue();
                }
            }
        }
        return found == null ? Where.GONE : new Where(found, false, node.directory(), links, null);
    }

    @Override
    public Occupant at(String path) {
        ModelTree.Node n = fs.get(path);
        return n == null ? Occupant.NOTHING : n.directory() ? Occupant.DIRECTORY : Occupant.FILE;
    }

    @Override
    public String mountPoint() {
        return mount;
    }

    /** Sets the mounts inside the tree that {@link #mountsInside} reports. */
    void mounts(List<MountAliases.Mount> inside) {
        mounts = new MountAliases.Table(mount, "/", List.of(), List.copyOf(inside), true);
    }

    @Override
    public MountAliases.Table mountsInside() {
        return mounts;
    }
}
