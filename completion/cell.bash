# Bash completion for cell(1): verbs, their options, VP and image names, device rights.
# VP and image names come from the daemon that --run DIR (earlier on the line),
# $CELLS_RUN or /run/cells names; when it does not answer, nothing is offered for them.

# ARGS...: cell's output for them, on the daemon the line names; nothing after a second.
# Uses the words of _cell, the caller.
_cell_ask()
{
	local run=() i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--run) run=(--run "${words[i + 1]}") ;;
		--run=*) run=(--run "${words[i]#--run=}") ;;
		esac
	done
	timeout 1 "${words[0]}" "${run[@]}" "$@" 2>/dev/null
}

_cell_vps() # [STATE]: the VPs' names, only those in STATE if given
{
	_cell_ask list | awk -v s="$1" 'NR > 1 && (s == "" || $3 == s) { print $1 }'
}

_cell_images()
{
	_cell_ask image list | awk 'NR > 1 { print $1 }'
}

_cell()
{
	local cur prev words cword
	# Keep --device DEV=RIGHT and --run=DIR one word.
	_init_completion -n = || return

	local verbs="image create config start stop destroy list switch next prev active exec device
		console logs stats viewer events screenshot input help"
	local devices="display input vt telephony net tun wifi power audio gpu binder"
	# The words before the current one that are not options nor option values: the verb
	# first, then its arguments. exec's command (after --) is not ours.
	local args=() i w
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--) [[ ${args[0]} == exec ]] && return ;;
		--run | --image | --device | --memory | --disk | --pids | --cpu | --restart | --timeout | \
			--uplink | --publish | --data-limit | --background | --throttle | --number | --on-call)
			((i++)) ;;
		-*) ;;
		*) args+=("$w") ;;
		esac
	done
	local verb=${args[0]} nargs=$((${#args[@]} - 1))

	case $prev in
	--run)
		_filedir -d
		return
		;;
	--image)
		COMPREPLY=($(compgen -W "$(_cell_images)" -- "$cur"))
		return
		;;
	--restart)
		COMPREPLY=($(compgen -W "always unless-stopped no" -- "$cur"))
		return
		;;
	--device)
		if [[ $cur == *=* ]]; then
			local rights=($(compgen -W "none shared exclusive" -- "${cur#*=}"))
			# Readline replaces only what follows the = when = breaks words.
			[[ $COMP_WORDBREAKS == *=* ]] && COMPREPLY=("${rights[@]}") ||
				COMPREPLY=("${rights[@]/#/${cur%%=*}=}")
		else
			COMPREPLY=($(compgen -S = -W "$devices" -- "$cur"))
			compopt -o nospace 2>/dev/null
		fi
		return
		;;
	--background)
		COMPREPLY=($(compgen -W "run throttle freeze" -- "$cur"))
		return
		;;
	--on-call)
		COMPREPLY=($(compgen -W "switch ask none" -- "$cur"))
		return
		;;
	--memory | --disk | --pids | --cpu | --timeout | --uplink | --publish | --data-limit | \
		--throttle | --number)
		return
		;;
	esac

	if [[ -z $verb ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--run --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		fi
		return
	fi

	local opts="" names=""
	case $verb in
	create) opts="--image --device --memory --disk --pids --cpu --restart --autostart --uplink --publish --data-limit --number --on-call" ;;
	config) opts="--image --device --memory --disk --pids --cpu --restart --json --uplink --publish --data-limit --number --on-call" ;;
	stop) opts="--timeout" ;;
	destroy) opts="--force" ;;
	list | stats | viewer) opts="--json" ;;
	logs) opts="-f --follow" ;;
	exec) opts="-t --" ;;
	esac
	case $verb in
	config | destroy | logs | stats) ((nargs == 0)) && names=$(_cell_vps) ;;
	start) ((nargs == 0)) && names=$(_cell_vps stopped) ;;
	stop | switch | console) ((nargs == 0)) && names=$(_cell_vps running) ;;
	exec) ((nargs == 0)) && names=$(_cell_vps running) || names="--" ;;
	screenshot)
		((nargs == 0)) && _filedir png
		return
		;;
	image)
		case $nargs:${args[1]} in
		0:*) names="build list import rm" ;;
		1:build) names=$(printf "%s\n" minimal debian "$(_cell_images)" | sort -u) ;;
		1:rm) names=$(_cell_images) ;;
		2:import)
			_filedir
			return
			;;
		esac
		;;
	input) ((nargs == 0)) && names="tap swipe key text" ;;
	help) ((nargs == 0)) && names=$verbs ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts --help --run" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$names" -- "$cur"))
	fi
} &&
	complete -F _cell cell
