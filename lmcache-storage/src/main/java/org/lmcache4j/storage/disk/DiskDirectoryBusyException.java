package org.lmcache4j.storage.disk;

/** The disk tier's directory is locked by another disk tier (in this process or another one). */
final class DiskDirectoryBusyException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    DiskDirectoryBusyException(String message) {
        super(message);
    }
}
