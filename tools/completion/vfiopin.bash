# bash completion for vfiopin and vfiopin-top.  The subcommands and their
# options come from the installed binary's own --help, so they are never
# out of date.

_vfiopin_subcommands() {
	"$1" --help 2> /dev/null | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'
}

# the long options of the help's option lines ("  -l, --listen=ADDR", "      --json")
_vfiopin_options() {
	"$@" --help 2> /dev/null |
		sed -n 's/^  *\(-[^ ,-], \)\{0,1\}\(--[a-z][a-z-]*=\{0,1\}\).*/\2/p' | sort -u
}

_vfiopin() {
	local cur prev words cword cmd i
	_init_completion -s || return
	local bin=${words[0]}
	# after "--": the command vfiopin runs
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			_command_offset $((i + 1))
			return
		fi
	done
	case $prev in
	-o | --output) _filedir; return ;;
	esac
	[[ $cur == *=* ]] && return
	if [[ $bin == *vfiopin-top ]]; then
		cmd=top
	elif ((cword == 1)); then
		COMPREPLY=($(compgen -W "$(_vfiopin_subcommands "$bin") --help --version" -- "$cur"))
		return
	else
		cmd=${words[1]}
	fi
	if [[ $cur == -* ]]; then
		if [[ $bin == *vfiopin-top ]]; then
			COMPREPLY=($(compgen -W "$(_vfiopin_options "$bin")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_vfiopin_options "$bin" "$cmd")" -- "$cur"))
		fi
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
	fi
}
complete -F _vfiopin vfiopin vfiopin-top
