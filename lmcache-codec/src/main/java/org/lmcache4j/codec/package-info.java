/** The codecs of the lmcache-codec module; each class comment states its encoding, its ratio and, when lossy, its error bound. */
package org.lmcache4j.codec;
