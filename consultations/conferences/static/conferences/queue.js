/* placeholder: the queue engineer's script replaces this file. */
