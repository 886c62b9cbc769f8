#ifndef LOCKSTEP_CMPI_SHIM_H
#define LOCKSTEP_CMPI_SHIM_H
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros over globals
// that Swift cannot import, so they are exposed here as static inline accessors.
#include <mpi.h>

static inline MPI_Comm lockstep_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm lockstep_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype lockstep_type_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype lockstep_type_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype lockstep_type_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype lockstep_type_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype lockstep_type_uint16(void) { return MPI_UINT16_T; }
static inline MPI_Datatype lockstep_type_byte(void) { return MPI_BYTE; }
static inline MPI_Op lockstep_op_sum(void) { return MPI_SUM; }
static inline MPI_Op lockstep_op_max(void) { return MPI_MAX; }
static inline MPI_Op lockstep_op_min(void) { return MPI_MIN; }
static inline void *lockstep_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler lockstep_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Request lockstep_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *lockstep_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int lockstep_any_source(void) { return MPI_ANY_SOURCE; }
static inline int lockstep_any_tag(void) { return MPI_ANY_TAG; }
static inline MPI_Info lockstep_info_null(void) { return MPI_INFO_NULL; }
static inline int lockstep_undefined(void) { return MPI_UNDEFINED; }
static inline int lockstep_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int lockstep_mode_nocheck(void) { return MPI_MODE_NOCHECK; }
static inline int lockstep_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline int lockstep_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int lockstep_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
#endif
